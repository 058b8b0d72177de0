//! Edge primitives every HTTP handler shares, with no host state: RFC 9457
//! problem bodies, bounded body reads and JSON responses, bearer and HMAC
//! credential checks, and the listener's TLS acceptor. The router, the
//! listeners themselves and health/metrics live in [`crate::runtime`],
//! above the features whose handlers they call.

pub mod auth;
mod body;
pub mod problem;
mod tls;

pub use body::{Resp, header, json, read_body, text};
pub use problem::{Problem, admin_not_found, store_problem};
pub use tls::{TlsError, acceptor as tls_acceptor};
