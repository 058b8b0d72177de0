//! portal-visibility plugin (being written).
