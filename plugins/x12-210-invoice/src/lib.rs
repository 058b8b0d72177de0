//! x12-210-invoice plugin (being written).
