//! The host configuration: one TOML file, parsed and validated at start-up
//! with errors that name the file, line and key.
