//! misbehave-loop plugin (being written).
