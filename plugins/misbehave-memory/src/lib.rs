//! misbehave-memory plugin (being written).
