//! The HTTP surface: partner ingest, commands, the admin API, health and
//! metrics, served by hyper with graceful shutdown.
