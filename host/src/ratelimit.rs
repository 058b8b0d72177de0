//! Token-bucket rate limits shared by ingest (per source) and delivery (per
//! target).
