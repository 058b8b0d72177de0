//! northwind-order-released plugin (being written).
