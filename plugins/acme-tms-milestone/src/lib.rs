//! acme-tms-milestone plugin (being written).
