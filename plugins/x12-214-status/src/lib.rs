//! x12-214-status plugin (being written).
