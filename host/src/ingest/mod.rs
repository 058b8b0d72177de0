//! The way in from partners: `POST /v1/sources/{source}/messages` (and
//! `/bulk`) and `POST /v1/commands/{route}` (a command is ingested like a
//! message, then its caller waits for the answer). Checks type, size,
//! credentials, rate limit and HMAC replay; stores the raw message and
//! acknowledges only once it is durable (invariant 1), answering a repeated
//! idempotency key with the first answer (invariant 2).

pub mod commands;
pub mod messages;

pub use commands::COMMAND_HEADER;
