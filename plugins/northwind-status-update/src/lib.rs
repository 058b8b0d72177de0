//! northwind-status-update plugin (being written).
