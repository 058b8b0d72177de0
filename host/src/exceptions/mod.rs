//! The exception queue and its actions: a rejection, a late event or a
//! charge outside tolerance becomes an exception, never a half-applied
//! posting. Operators approve (post the held document), reject (send the
//! route's compensating message), retry, replay through a named plugin
//! version or resolve with a note; each action is audited in the same
//! transaction as what it caused. Admin routes: `/admin/v1/exceptions...`.

mod actions;
pub mod admin;
pub mod compensation;

pub use actions::{Action, ActionError, ActionRequest, act};
