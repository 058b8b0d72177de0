//! Waybill host library.
