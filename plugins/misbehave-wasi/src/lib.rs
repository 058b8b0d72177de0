//! misbehave-wasi plugin (being written).
