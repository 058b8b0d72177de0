//! The values that cross the contract: messages in, outputs and documents out.

use crate::PluginError;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// One header of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Lower-cased name.
    pub name: String,
    /// Value as received.
    pub value: String,
}

/// One message handed to a mapper.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    /// Message kind, e.g. `acme-tms.milestone`.
    pub kind: String,
    /// Declared media type.
    pub content_type: String,
    /// Raw body.
    pub body: Vec<u8>,
    /// Headers (authentication removed).
    pub headers: Vec<Header>,
    /// Correlation id of the message.
    pub correlation_id: String,
}

impl Message {
    /// A message with no headers and an empty correlation id (tests, benches).
    pub fn new(kind: &str, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            kind: kind.into(),
            content_type: content_type.into(),
            body: body.into(),
            headers: Vec::new(),
            correlation_id: String::new(),
        }
    }

    /// The first header named `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    /// Whether the declared content type is JSON (`application/json` or a
    /// `+json` type; an empty one is accepted as JSON).
    pub fn is_json(&self) -> bool {
        is_json_media_type(&self.content_type)
    }

    /// The body of an outbound plugin's input: checks that the message is
    /// the canonical `schema_id` in JSON and parses it. Anything else is
    /// `unsupported`, naming `plugin`.
    pub fn canonical<T: DeserializeOwned>(
        &self,
        plugin: &str,
        schema_id: &str,
    ) -> Result<T, PluginError> {
        self.expect_canonical(plugin, schema_id)?;
        self.json()
    }

    /// The checks of [`Message::canonical`] without parsing, for plugins
    /// that read their configuration before the body.
    pub fn expect_canonical(&self, plugin: &str, schema_id: &str) -> Result<(), PluginError> {
        if self.kind != schema_id {
            return Err(PluginError::unsupported(format!(
                "{plugin} maps {schema_id}, not {:?}",
                self.kind
            )));
        }
        self.expect_json()
    }

    /// An inbound plugin's first check: the message is of its one `kind`,
    /// else `unsupported`, naming `plugin`.
    pub fn expect_kind(&self, plugin: &str, kind: &str) -> Result<(), PluginError> {
        if self.kind != kind {
            return Err(PluginError::unsupported(format!(
                "{plugin} maps {kind:?} messages, not {:?}",
                self.kind
            )));
        }
        Ok(())
    }

    /// The declared content type is JSON (see [`Message::is_json`]), else
    /// `unsupported`.
    pub fn expect_json(&self) -> Result<(), PluginError> {
        if !self.is_json() {
            return Err(PluginError::unsupported(format!(
                "content type {:?} is not JSON",
                self.content_type
            )));
        }
        Ok(())
    }

    /// The body as UTF-8 text, or an `invalid-input` error.
    pub fn text(&self) -> Result<&str, PluginError> {
        std::str::from_utf8(&self.body)
            .map_err(|e| PluginError::invalid("", "not-utf8", format!("body is not UTF-8: {e}")))
    }

    /// The body parsed as JSON into `T`; errors name the JSON pointer of the
    /// offending field.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        parse_json(&self.body)
    }
}

/// Whether a media type is JSON (`application/json`, `*+json`, or empty).
pub fn is_json_media_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence.is_empty() || essence == "application/json" || essence.ends_with("+json")
}

/// Parses JSON bytes into `T`, naming the offending field on error.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, PluginError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| json_error("", e))
}

/// The `invalid-input` error of a failed parse, its JSON pointer under
/// `prefix` (e.g. `/line/3` for one line of an NDJSON page).
pub(crate) fn json_error(
    prefix: &str,
    e: serde_path_to_error::Error<serde_json::Error>,
) -> PluginError {
    let mut pointer = prefix.to_string();
    pointer.push_str(&pointer_of(e.path()));
    let inner = e.into_inner();
    let text = inner.to_string();
    // serde names a missing field only in the message: point at it.
    let missing = text
        .strip_prefix("missing field `")
        .and_then(|r| r.split('`').next());
    let code = match missing {
        Some(field) => {
            pointer.push('/');
            pointer.push_str(field);
            "required"
        }
        None if inner.is_syntax() || inner.is_eof() => "malformed-json",
        None => "invalid-field",
    };
    PluginError::invalid(pointer, code, text)
}

fn pointer_of(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => {
                out.push_str(&format!("/{}", key.replace('~', "~0").replace('/', "~1")))
            }
            Segment::Enum { variant } => out.push_str(&format!("/{variant}")),
            Segment::Unknown => {}
        }
    }
    out
}

/// One document a mapper produces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    /// Schema id, `<entity>@<major>.<minor>`.
    pub schema_id: String,
    /// Business key ordering deliveries.
    pub business_key: String,
    /// JSON text.
    pub body: String,
}

impl Output {
    /// Serialises `doc` as the output body.
    pub fn json<T: Serialize>(
        schema_id: &str,
        business_key: &str,
        doc: &T,
    ) -> Result<Self, PluginError> {
        let body = serde_json::to_string(doc)
            .map_err(|e| PluginError::rejected(format!("cannot serialise output: {e}")))?;
        Ok(Self {
            schema_id: schema_id.into(),
            business_key: business_key.into(),
            body,
        })
    }
}

/// A canonical document handed to a validator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Schema id of the document.
    pub schema_id: String,
    /// JSON text.
    pub body: String,
}

impl Document {
    /// The body parsed into `T`; errors name the offending field.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, PluginError> {
        parse_json(self.body.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::{Message, is_json_media_type};
    use crate::PluginError;

    #[test]
    fn json_media_types() {
        assert!(is_json_media_type("application/json; charset=utf-8"));
        assert!(is_json_media_type("application/vnd.waybill+json"));
        assert!(is_json_media_type(""));
        assert!(!is_json_media_type("application/edi-x12"));
    }

    #[test]
    fn kind_and_content_type_checks_name_what_came() {
        let msg = Message::new("acme.milestone", "text/csv", "");
        assert_eq!(msg.expect_kind("p", "acme.milestone"), Ok(()));
        assert_eq!(
            msg.expect_kind("p", "acme.charges"),
            Err(PluginError::unsupported(
                "p maps \"acme.charges\" messages, not \"acme.milestone\""
            ))
        );
        assert_eq!(
            msg.expect_json(),
            Err(PluginError::unsupported(
                "content type \"text/csv\" is not JSON"
            ))
        );
        assert_eq!(
            Message::new("k", "application/json", "").expect_json(),
            Ok(())
        );
    }
}
