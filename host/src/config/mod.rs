//! The host configuration: one TOML file, parsed and validated at start-up
//! with errors that name the file, line and key.

mod canary;
mod flows;
mod load;
mod locate;
mod model;
mod outbound_tls;
mod reconcile;
#[cfg(test)]
mod reconcile_tests;
mod secret;
mod server;
mod shadow;
mod validate;

pub use canary::CanaryConfig;
pub use flows::{
    ApprovalConfig, CommandConfig, CompensationConfig, ConfirmConfig, DedupeConfig, OrderingConfig,
    QuoteRef, StalePolicy, SyncJobConfig,
};
pub use load::{ConfigError, load, parse};
pub use model::{
    BreakerConfig, ClientCredentials, Config, Filter, LimitsConfig, OAuth2Config, PluginRef,
    PluginsConfig, RateLimitConfig, RetryConfig, RouteConfig, RouteTarget, SchemasConfig,
    ServerConfig, SourceAuth, SourceConfig, StoreConfig, StoreKind, TargetAuth, TargetConfig,
    media_type,
};
pub use outbound_tls::{ClientTlsConfig, certificates, private_key};
pub use reconcile::{ConfigProblem, EntityConfig, ReconcileConfig, SnapshotEndpoint, SystemConfig};
pub use secret::{REDACTED, Secret, redact_url};
pub use server::{ListenerTls, ServerLimits};
pub use shadow::{MAX_EXAMPLES as SHADOW_MAX_EXAMPLES, ShadowConfig};
pub use validate::host_id_error;
