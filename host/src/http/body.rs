//! Small HTTP helpers shared by the handlers: JSON responses, bounded body
//! reads, header access.

use super::problem::Problem;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use std::time::Duration;

/// The response type of every handler.
pub type Resp = Response<Full<Bytes>>;

/// A JSON response.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(value.to_string())));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    resp
}

/// A plain-text response.
pub fn text(status: StatusCode, body: String, content_type: &'static str) -> Resp {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    resp
}

/// A request header as text (`None` when absent or not visible ASCII).
pub fn header<'a>(req: &'a Request<Incoming>, name: &str) -> Option<&'a str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Reads the whole body within `deadline`, refusing more than `max` bytes
/// with a 413 and a body still arriving at the deadline with a 408 (the
/// connection is then closed: its unread rest cannot be skipped).
pub async fn read_body(body: Incoming, max: usize, deadline: Duration) -> Result<Bytes, Problem> {
    let read = tokio::time::timeout(deadline, Limited::new(body, max).collect()).await;
    let Ok(read) = read else {
        return Err(Problem::body_timeout(
            u64::try_from(deadline.as_millis()).unwrap_or(u64::MAX),
        ));
    };
    match read {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) => {
            if e.downcast_ref::<http_body_util::LengthLimitError>()
                .is_some()
            {
                Err(Problem::payload_too_large(max))
            } else {
                Err(Problem::malformed(
                    "body",
                    format!("could not read the request body: {e}"),
                ))
            }
        }
    }
}
