//! Source authentication at ingest: bearer tokens and Acme-style HMAC
//! signatures (`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`), both compared
//! in constant time. Errors say what is wrong with a request without ever
//! echoing a secret or the expected signature.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Why a request's credentials were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("missing {header} header")]
    Missing { header: String },
    #[error("malformed {header} header: {detail}")]
    Malformed { header: String, detail: String },
    /// `skew_secs` is `now - t`: positive for a stale signature, negative for
    /// one from the future.
    #[error("{header} timestamp is {} s {}, outside the allowed tolerance", .skew_secs.unsigned_abs(), if *.skew_secs >= 0 { "old" } else { "in the future" })]
    Expired { header: String, skew_secs: i64 },
    #[error("invalid credentials in the {header} header")]
    Mismatch { header: String },
}

impl AuthError {
    /// The header the problem is in, for the problem body's `field`.
    pub fn header(&self) -> &str {
        match self {
            Self::Missing { header }
            | Self::Malformed { header, .. }
            | Self::Expired { header, .. }
            | Self::Mismatch { header } => header,
        }
    }
}

const AUTHORIZATION: &str = "authorization";

/// Checks an `Authorization: Bearer <token>` header value against `token`.
pub fn check_bearer(authorization: Option<&str>, token: &str) -> Result<(), AuthError> {
    let header = || AUTHORIZATION.to_owned();
    let value = authorization.ok_or_else(|| AuthError::Missing { header: header() })?;
    let presented = value
        .trim()
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, presented)| presented.trim())
        .filter(|presented| !presented.is_empty())
        .ok_or_else(|| AuthError::Malformed {
            header: header(),
            detail: "expected `Bearer <token>`".to_owned(),
        })?;
    // Hash both sides so the comparison's time does not depend on lengths.
    let matches: bool = Sha256::digest(presented.as_bytes())
        .ct_eq(&Sha256::digest(token.as_bytes()))
        .into();
    if matches {
        Ok(())
    } else {
        Err(AuthError::Mismatch { header: header() })
    }
}

/// Checks an HMAC signature header `t=<unix>,v1=<hex>[,v1=<hex>...]` over
/// `"<t>.<body>"`: one `v1` must match (several allow key rotation on the
/// sender's side), and `t` must be within `tolerance_secs` of `now_unix`.
pub fn check_hmac(
    signature_header: Option<&str>,
    header_name: &str,
    secret: &str,
    body: &[u8],
    now_unix: i64,
    tolerance_secs: u64,
) -> Result<(), AuthError> {
    let header = || header_name.to_ascii_lowercase();
    let malformed = |detail: &str| AuthError::Malformed {
        header: header(),
        detail: detail.to_owned(),
    };
    let value = signature_header.ok_or_else(|| AuthError::Missing { header: header() })?;
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in value.split(',') {
        let Some((key, val)) = part.trim().split_once('=') else {
            return Err(malformed("expected `t=<unix>,v1=<hex>`"));
        };
        match key.trim() {
            "t" => timestamp = Some(val.trim()),
            "v1" => match hex::decode(val.trim()) {
                Ok(bytes) if bytes.len() == 32 => signatures.push(bytes),
                _ => return Err(malformed("a `v1` signature is not 64 hex digits")),
            },
            // Other schemes (e.g. a future `v2`) are ignored.
            _ => {}
        }
    }
    let t_text = timestamp.ok_or_else(|| malformed("no `t=` timestamp"))?;
    let t: i64 = t_text
        .parse()
        .map_err(|_| malformed("the `t=` timestamp is not an integer"))?;
    if signatures.is_empty() {
        return Err(malformed("no `v1=` signature"));
    }
    let Some(mac) = mac_over(secret, t_text, body) else {
        return Err(AuthError::Mismatch { header: header() });
    };
    // Verify every candidate so the time does not reveal which one matched.
    let matched = signatures.iter().fold(false, |found, sig| {
        mac.clone().verify_slice(sig).is_ok() | found
    });
    if !matched {
        return Err(AuthError::Mismatch { header: header() });
    }
    let skew_secs = now_unix.saturating_sub(t);
    if skew_secs.unsigned_abs() > tolerance_secs {
        return Err(AuthError::Expired {
            header: header(),
            skew_secs,
        });
    }
    Ok(())
}

/// The full signature header value for `body` signed at `t`:
/// `t=<t>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.
pub fn sign_hmac(secret: &str, t: i64, body: &[u8]) -> String {
    let t_text = t.to_string();
    let signature = mac_over(secret, &t_text, body)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("t={t_text},v1={signature}")
}

/// HMAC-SHA256 keyed with `secret` over `"<t>.<body>"`. HMAC accepts keys of
/// any length, so this is `None` only in theory.
fn mac_over(secret: &str, t_text: &str, body: &[u8]) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(t_text.as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec-test";
    const HEADER: &str = "X-Acme-Signature";
    const BODY: &[u8] = br#"{"shipmentId":"S-1","milestone":"DELIVERED"}"#;
    const NOW: i64 = 1_760_000_000;

    fn check(value: Option<&str>, body: &[u8]) -> Result<(), AuthError> {
        check_hmac(value, HEADER, SECRET, body, NOW, 300)
    }

    #[test]
    fn bearer_good_missing_malformed_wrong() {
        assert_eq!(check_bearer(Some("Bearer s3cret"), "s3cret"), Ok(()));
        assert_eq!(check_bearer(Some("bearer  s3cret "), "s3cret"), Ok(()));
        let missing = check_bearer(None, "s3cret");
        assert_eq!(
            missing.map_err(|e| e.to_string()),
            Err("missing authorization header".to_owned())
        );
        let basic = check_bearer(Some("Basic czNjcmV0"), "s3cret");
        assert_eq!(
            basic.map_err(|e| e.to_string()),
            Err("malformed authorization header: expected `Bearer <token>`".to_owned())
        );
        assert!(matches!(
            check_bearer(Some("Bearer"), "s3cret"),
            Err(AuthError::Malformed { .. })
        ));
        let wrong = check_bearer(Some("Bearer s3cre"), "s3cret");
        assert_eq!(
            wrong.map_err(|e| e.to_string()),
            Err("invalid credentials in the authorization header".to_owned())
        );
    }

    #[test]
    fn sign_produces_the_documented_format() {
        let value = sign_hmac(SECRET, NOW, BODY);
        let (t, v1) = value.split_once(',').unwrap_or_default();
        assert_eq!(t, format!("t={NOW}"));
        let hex = v1.strip_prefix("v1=").unwrap_or_default();
        assert_eq!(hex.len(), 64);
        assert!(
            hex.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        // Known answer: HMAC-SHA256("key", "1.body").
        assert_eq!(
            sign_hmac("key", 1, b"body"),
            "t=1,v1=91b5374b153842ad05b2c4eab9349b8321b14703165bd3fb8b034dfb8be98ae5"
        );
    }

    #[test]
    fn hmac_good_and_within_tolerance() {
        let value = sign_hmac(SECRET, NOW, BODY);
        assert_eq!(check(Some(&value), BODY), Ok(()));
        let value = sign_hmac(SECRET, NOW - 300, BODY);
        assert_eq!(check(Some(&value), BODY), Ok(()));
        let value = sign_hmac(SECRET, NOW + 300, BODY);
        assert_eq!(check(Some(&value), BODY), Ok(()));
        // Spaces after commas are tolerated.
        let spaced = sign_hmac(SECRET, NOW, BODY).replace(',', ", ");
        assert_eq!(check(Some(&spaced), BODY), Ok(()));
    }

    #[test]
    fn hmac_missing() {
        assert_eq!(
            check(None, BODY).map_err(|e| e.to_string()),
            Err("missing x-acme-signature header".to_owned())
        );
    }

    #[test]
    fn hmac_malformed() {
        let detail = |value: &str| match check(Some(value), BODY) {
            Err(AuthError::Malformed { header, detail }) => {
                assert_eq!(header, "x-acme-signature");
                detail
            }
            other => panic!("expected malformed, got {other:?}"),
        };
        let good_sig = hex::encode([7u8; 32]);
        assert_eq!(detail("garbage"), "expected `t=<unix>,v1=<hex>`");
        assert_eq!(detail(&format!("v1={good_sig}")), "no `t=` timestamp");
        assert_eq!(
            detail(&format!("t=soon,v1={good_sig}")),
            "the `t=` timestamp is not an integer"
        );
        assert_eq!(detail(&format!("t={NOW}")), "no `v1=` signature");
        assert_eq!(
            detail(&format!("t={NOW},v1=zz")),
            "a `v1` signature is not 64 hex digits"
        );
        assert_eq!(
            check(Some("t=1,v1=zz"), BODY).map_err(|e| e.to_string()),
            Err(
                "malformed x-acme-signature header: a `v1` signature is not 64 hex digits"
                    .to_owned()
            )
        );
    }

    #[test]
    fn hmac_stale_or_future_beyond_tolerance() {
        let stale = sign_hmac(SECRET, NOW - 301, BODY);
        let err = check(Some(&stale), BODY);
        assert_eq!(
            err,
            Err(AuthError::Expired {
                header: "x-acme-signature".to_owned(),
                skew_secs: 301
            })
        );
        assert_eq!(
            err.map_err(|e| e.to_string()),
            Err(
                "x-acme-signature timestamp is 301 s old, outside the allowed tolerance".to_owned()
            )
        );
        let future = sign_hmac(SECRET, NOW + 600, BODY);
        assert_eq!(
            check(Some(&future), BODY).map_err(|e| e.to_string()),
            Err(
                "x-acme-signature timestamp is 600 s in the future, outside the allowed tolerance"
                    .to_owned()
            )
        );
    }

    #[test]
    fn hmac_wrong_secret_or_tampered() {
        let mismatch = Err(AuthError::Mismatch {
            header: "x-acme-signature".to_owned(),
        });
        let other = sign_hmac("another-secret", NOW, BODY);
        assert_eq!(check(Some(&other), BODY), mismatch);
        let value = sign_hmac(SECRET, NOW, BODY);
        let tampered = br#"{"shipmentId":"S-1","milestone":"CANCELLED"}"#;
        assert_eq!(check(Some(&value), tampered), mismatch);
        // Moving the timestamp invalidates the signature too.
        let moved = value.replace(&format!("t={NOW}"), &format!("t={}", NOW - 1));
        assert_eq!(check(Some(&moved), BODY), mismatch);
        // The error text never carries the secret or a signature.
        let text = check(Some(&other), BODY).map_err(|e| e.to_string());
        assert_eq!(
            text,
            Err("invalid credentials in the x-acme-signature header".to_owned())
        );
    }

    #[test]
    fn hmac_rotation_accepts_any_v1() {
        let old = sign_hmac("old-secret", NOW, BODY);
        let new = sign_hmac(SECRET, NOW, BODY);
        let old_sig = old.split_once(",v1=").map(|(_, s)| s).unwrap_or_default();
        let new_sig = new.split_once(",v1=").map(|(_, s)| s).unwrap_or_default();
        let both = format!("t={NOW},v1={old_sig},v1={new_sig}");
        assert_eq!(check(Some(&both), BODY), Ok(()));
        let both_reversed = format!("t={NOW},v1={new_sig},v1={old_sig}");
        assert_eq!(check(Some(&both_reversed), BODY), Ok(()));
        // Unknown schemes are ignored, but one v1 must match.
        let with_v0 = format!("t={NOW},v0=abc,v1={old_sig}");
        assert!(matches!(
            check(Some(&with_v0), BODY),
            Err(AuthError::Mismatch { .. })
        ));
    }
}
