//! charge-tolerance plugin (being written).
