//! Starts and stops the whole host from a [`Config`]: store, plugin runtime
//! and watcher, the follower of the store's plugin decisions, processing loop, one delivery worker per target, background
//! housekeeping and the HTTP listeners (partner ingest and, on a port of its
//! own unless configured otherwise, the admin API); shuts them down
//! gracefully in order.

use super::schedule::{FirstRun, run_scheduled};
use super::{Listener, Surface, serve};
use crate::config::{Config, StoreConfig, StoreKind};
use crate::context::App;
use crate::deliver::HttpSender;
use crate::deliver::worker::TargetWorker;
use crate::distribution::Distributor;
use crate::http::tls_acceptor;
use crate::plugins::{
    LimitOverrides, Limits, Registry, Runtime, RuntimeOptions, WatchHandle, watch_directory,
};
use crate::process::{Processor, run_processing};
use crate::schemas::{SchemaRegistry, is_canonical};
use crate::store::postgres::{PostgresOptions, PostgresStore};
use crate::store::sqlite::{SqliteOptions, SqliteStore};
use crate::store::{Store, now_ms};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Why the host could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The store could not be opened.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The plugin runtime could not be built.
    #[error("plugin runtime: {0}")]
    Runtime(#[source] crate::plugins::RuntimeError),
    /// The plugins directory could not be read.
    #[error("plugins directory {}: {source}", dir.display())]
    Plugins {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The plugins directory could not be watched.
    #[error("plugins directory {}: cannot watch it: {source}", dir.display())]
    Watch {
        /// The directory.
        dir: std::path::PathBuf,
        /// Why.
        source: notify::Error,
    },
    /// The canonical schemas could not be loaded.
    #[error("schemas: {0}")]
    Schemas(#[source] crate::schemas::SchemaError),
    /// A target's TLS settings could not be used.
    #[error("target {target}: {source}")]
    Tls {
        /// The target.
        target: String,
        /// Why.
        source: crate::deliver::TlsError,
    },
    /// A listener's TLS certificate or key could not be loaded.
    #[error("{key}: {source}")]
    ListenerTls {
        /// `server.tls` or `server.admin_tls`.
        key: &'static str,
        /// Why (boxed: rustls errors are large).
        source: Box<crate::http::TlsError>,
    },
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
}

/// A running host.
pub struct Service {
    /// Shared state (tests and the demo read it).
    pub app: Arc<App>,
    /// Where partner ingest listens.
    pub addr: SocketAddr,
    /// Where the admin API listens (`addr` when they share a port).
    pub admin_addr: SocketAddr,
    /// Whether `addr` speaks TLS.
    pub tls: bool,
    /// Whether `admin_addr` speaks TLS.
    pub admin_tls: bool,
    shutdown: watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<()>>,
    tasks: JoinSet<()>,
    _watch: Option<WatchHandle>,
}

/// Opens the configured store; returns it with what the logs call it
/// (the SQLite file, or the PostgreSQL URL without its password).
pub async fn open_store(
    config: &StoreConfig,
    host: &str,
    clock: Arc<dyn crate::store::Clock>,
) -> Result<(Arc<dyn Store>, String), StartError> {
    match config.kind {
        StoreKind::Sqlite => {
            let sqlite = SqliteStore::open_with_clock(
                &SqliteOptions {
                    path: config.path.clone(),
                    group_commit_max: config.group_commit_max.max(1),
                    host: host.to_string(),
                },
                clock,
            )?;
            Ok((sqlite, config.path.display().to_string()))
        }
        StoreKind::Postgres => {
            // Validation makes the URL required for this kind.
            let url = config.url.as_deref().unwrap_or_default();
            let postgres = PostgresStore::open_with_clock(
                &PostgresOptions {
                    url: url.to_string(),
                    pool_size: config.pool_size.max(1),
                    host: host.to_string(),
                },
                clock,
            )
            .await?;
            let shown = postgres.url().to_string();
            Ok((postgres, shown))
        }
    }
}

/// Starts the host. `listen` overrides the configured partner address
/// (tests bind port 0).
pub async fn start(config: Config, listen: Option<SocketAddr>) -> Result<Service, StartError> {
    let mut config = config;
    if let Some(listen) = listen {
        config.server.listen = listen;
    }
    let config = Arc::new(config);
    // TLS files are read before anything starts, so a bad one stops start-up.
    let tls = match &config.server.tls {
        Some(t) => Some(tls_acceptor(t).map_err(|source| StartError::ListenerTls {
            key: "server.tls",
            source: Box::new(source),
        })?),
        None => None,
    };
    let admin_tls = match &config.server.admin_tls {
        Some(t) if !config.server.admin_shares_listen() => {
            Some(tls_acceptor(t).map_err(|source| StartError::ListenerTls {
                key: "server.admin_tls",
                source: Box::new(source),
            })?)
        }
        _ => None,
    };
    let clock = crate::store::SystemClock::shared();
    // Deliveries left in flight by a previous run (or another process) are
    // claimed again once their lease is over: no start-up recovery.
    let (store, store_shown) =
        open_store(&config.store, &config.server.host_id(), clock.clone()).await?;

    let schemas = match &config.schemas {
        Some(s) => Some(Arc::new(
            SchemaRegistry::load(&s.dir).map_err(StartError::Schemas)?,
        )),
        None => None,
    };
    let registry = load_plugins(&config, schemas.clone())?;
    let watcher = if config.plugins.watch {
        let handle = watch_directory(
            registry.clone(),
            &config.plugins.dir,
            Duration::from_millis(300),
        )
        .map_err(|source| StartError::Watch {
            dir: config.plugins.dir.clone(),
            source,
        })?;
        Some(handle)
    } else {
        None
    };

    // The store's plugin decisions win over the directory: converge to
    // them before the first message is mapped.
    let distribution = Distributor::new(
        store.clone(),
        registry.clone(),
        config.server.host_id(),
        config.plugins.cache_dir.join("pushed-fixtures"),
    );
    let applied = distribution.converge().await?;
    if applied > 0 {
        tracing::info!(applied, "plugins converged to the store's decisions");
    }

    let processor = Arc::new(
        Processor::new(config.clone(), registry.clone(), schemas).with_store(store.clone()),
    );
    let app = App::new(
        config.clone(),
        store.clone(),
        registry.clone(),
        processor.clone(),
        distribution.clone(),
    );
    // Running canaries split the first message as they split every other.
    app.canaries.converge().await?;
    // Shadow runs the store has going are followed from the first message.
    if let Err(e) = app.shadow.converge().await {
        tracing::warn!(error = %e, "shadow runs: cannot read the store; following them once it answers");
    }
    let (shutdown, shutdown_rx) = watch::channel(false);
    let grace = Duration::from_secs(config.server.shutdown_grace_secs);
    let deliveries_ready = app.wake_deliveries.clone();
    let mut tasks = JoinSet::new();

    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        * 2;
    tasks.spawn(run_processing(
        processor,
        store.clone(),
        app.wake_processing.clone(),
        deliveries_ready.clone(),
        shutdown_rx.clone(),
        workers,
        config.store.max_processing_failures.max(1),
        crate::commands::FlowHooks::new(app.clone()),
    ));
    for (name, target) in &config.targets {
        // One pool per target: its TLS settings (CA, client certificate)
        // are part of the connection.
        let sender =
            HttpSender::with_tls(target.tls.as_ref()).map_err(|source| StartError::Tls {
                target: name.clone(),
                source,
            })?;
        let worker = Arc::new(
            TargetWorker::new(name, target, store.clone(), sender)
                .with_hooks(crate::commands::FlowHooks::new(app.clone()))
                .with_lease_margin(Duration::from_secs(config.store.lease_margin_secs)),
        );
        app.breakers.register(name, worker.breaker());
        tasks.spawn(worker.run(deliveries_ready.clone(), shutdown_rx.clone(), grace));
    }
    if let Some(wakes) = store.wake_events() {
        tasks.spawn(forward_wakes(wakes, app.clone(), shutdown_rx.clone()));
    }
    tasks.spawn(distribution.run(store.wake_events(), shutdown_rx.clone()));
    tasks.spawn(
        app.canaries
            .clone()
            .run(store.wake_events(), shutdown_rx.clone()),
    );
    tasks.spawn(
        app.shadow
            .clone()
            .run(store.wake_events(), shutdown_rx.clone()),
    );
    tasks.spawn(housekeeping(app.clone(), shutdown_rx.clone()));
    tasks.spawn(crate::store::retention::run_retention(
        store.clone(),
        clock,
        config.store.retention_days,
        shutdown_rx.clone(),
    ));
    if let Some(every) = config.reconcile.as_ref().and_then(|r| r.schedule_secs) {
        let run_app = app.clone();
        tasks.spawn(run_scheduled(
            store.clone(),
            app.host_id.clone(),
            crate::reconcile::RECONCILE_LOCK.to_string(),
            Duration::from_secs(every),
            FirstRun::AfterPeriod,
            shutdown_rx.clone(),
            move || {
                let app = run_app.clone();
                async move {
                    match crate::reconcile::run_now(&app, None).await {
                        Ok(run) => tracing::info!(
                            run = run.id,
                            exceptions = run.exceptions,
                            "scheduled reconciliation"
                        ),
                        Err(e) => tracing::error!(error = %e, "scheduled reconciliation failed"),
                    }
                }
            },
        ));
    }
    for (name, job) in &config.sync {
        if let Some(every) = job.schedule_secs {
            let (job_name, run_app) = (name.clone(), app.clone());
            tasks.spawn(run_scheduled(
                store.clone(),
                app.host_id.clone(),
                crate::refsync::sync_lock(name),
                Duration::from_secs(every),
                FirstRun::AtStart,
                shutdown_rx.clone(),
                move || {
                    let (app, name) = (run_app.clone(), job_name.clone());
                    async move {
                        if let Err(e) = crate::refsync::run_job(&app, &name).await {
                            tracing::error!(job = %name, error = %e, "scheduled sync failed");
                        }
                    }
                },
            ));
        }
    }

    let shared = config.server.admin_shares_listen();
    let (is_tls, is_admin_tls) = (tls.is_some(), config.server.admin_is_tls());
    let partner = bind(
        config.server.listen,
        tls,
        if shared {
            Surface::Both
        } else {
            Surface::Partner
        },
    )
    .await?;
    let addr = local_addr(&partner, config.server.listen)?;
    let mut listeners = vec![partner];
    let admin_addr = if shared {
        addr
    } else {
        let admin = bind(config.server.admin_listen, admin_tls, Surface::Admin).await?;
        let admin_addr = local_addr(&admin, config.server.admin_listen)?;
        listeners.push(admin);
        admin_addr
    };
    let servers = listeners
        .into_iter()
        .map(|l| tokio::spawn(serve(l, app.clone(), shutdown_rx.clone(), grace)))
        .collect();
    app.ready.store(true, Ordering::Relaxed);
    tracing::info!(%addr, %admin_addr, tls = is_tls, store = %store_shown, plugins = registry.status().len(), "waybill is serving");
    Ok(Service {
        app,
        addr,
        admin_addr,
        tls: is_tls,
        admin_tls: is_admin_tls,
        shutdown,
        servers,
        tasks,
        _watch: watcher,
    })
}

async fn bind(
    addr: SocketAddr,
    tls: Option<tokio_rustls::TlsAcceptor>,
    surface: Surface,
) -> Result<Listener, StartError> {
    let tcp = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Bind { addr, source })?;
    Ok(Listener { tcp, tls, surface })
}

fn local_addr(listener: &Listener, addr: SocketAddr) -> Result<SocketAddr, StartError> {
    listener
        .tcp
        .local_addr()
        .map_err(|source| StartError::Bind { addr, source })
}

/// A registry of the configured plugins directory: limits and schema
/// checks applied, every component admitted and activated.
pub fn load_plugins(
    config: &Config,
    schemas: Option<Arc<SchemaRegistry>>,
) -> Result<Arc<Registry>, StartError> {
    let defaults = Limits::default();
    let runtime = Runtime::new(RuntimeOptions {
        cache_dir: Some(config.plugins.cache_dir.clone()),
        default_limits: defaults,
        quarantine_after: config.plugins.quarantine_after.max(1),
        ..Default::default()
    })
    .map_err(StartError::Runtime)?;
    let registry = Registry::new(runtime);
    if let Some(schemas) = schemas {
        // A plugin may only go live producing schemas that exist and are
        // not past their sunset.
        registry.add_check(Box::new(move |v| {
            let today = crate::schemas::today();
            for id in v.info.produces.iter().filter(|id| is_canonical(id)) {
                match schemas.check_producer(id, &today) {
                    Ok(Some(warning)) => tracing::warn!(plugin = %v.label(), "{warning}"),
                    Ok(None) => {}
                    Err(refusal) => return Err(refusal),
                }
            }
            Ok(())
        }));
    }
    for (name, l) in &config.plugins.limits {
        // Unset limits keep the defaults of the plugin's language.
        registry.set_limits(
            name,
            LimitOverrides {
                cpu: l.cpu_ms.map(Duration::from_millis),
                memory_bytes: l.memory_bytes,
                input_bytes: l.input_bytes,
                output_bytes: l.output_bytes,
                outputs: l.outputs,
                log_bytes: l.log_bytes,
            },
        );
    }
    let refused = registry
        .load_directory(&config.plugins.dir)
        .map_err(|source| StartError::Plugins {
            dir: config.plugins.dir.clone(),
            source,
        })?;
    for (file, why) in refused {
        tracing::error!(file = %file.display(), error = %why, "plugin refused at start-up");
    }
    Ok(registry)
}

/// Pokes the processing loop and the delivery workers when the store says
/// another host (or this one) committed work for them: a shared store's
/// notifications. The workers share one wake-up, so a target's event wakes
/// every worker, and the others find nothing and wait again.
async fn forward_wakes(
    mut wakes: tokio::sync::broadcast::Receiver<crate::store::WakeEvent>,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
) {
    let (processing, deliveries) = (&app.wake_processing, &app.wake_deliveries);
    use crate::store::WakeEvent;
    use tokio::sync::broadcast::error::RecvError;
    loop {
        let event = tokio::select! {
            event = wakes.recv() => event,
            _ = shutdown.changed() => break,
        };
        match event {
            Ok(WakeEvent::Messages) => processing.notify_one(),
            Ok(WakeEvent::Deliveries(_)) => deliveries.notify_waiters(),
            Ok(WakeEvent::Command(handle)) => app.commands.done(&handle),
            // The plugin follower listens for these itself.
            Ok(WakeEvent::Plugins) => {}
            // Missed some: wake everything.
            Err(RecvError::Lagged(_)) => {
                processing.notify_one();
                deliveries.notify_waiters();
            }
            Err(RecvError::Closed) => break,
        }
    }
}

/// Refreshes the backlog figure ingest uses for back-pressure, and forgets
/// expired idempotency keys.
async fn housekeeping(app: Arc<App>, mut shutdown: watch::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(250));
    let mut last_purge = now_ms();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => break,
        }
        if let Ok(b) = app.store.backlog().await {
            app.backlog.store(b.total(), Ordering::Relaxed);
        }
        if now_ms() - last_purge > 600_000 {
            last_purge = now_ms();
            if let Err(e) = app.store.purge_idempotency(last_purge).await {
                tracing::warn!(error = %e, "idempotency purge failed");
            }
        }
    }
}

impl Service {
    /// The partner base URL, e.g. `https://127.0.0.1:8443`.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// The admin base URL.
    pub fn admin_url(&self) -> String {
        let scheme = if self.admin_tls { "https" } else { "http" };
        format!("{scheme}://{}", self.admin_addr)
    }

    /// Stops accepting, lets work in flight finish (up to the grace period)
    /// and returns when everything has stopped.
    pub async fn shutdown(mut self) {
        self.app.ready.store(false, Ordering::Relaxed);
        let _ = self.shutdown.send(true);
        for server in self.servers {
            let _ = server.await;
        }
        while self.tasks.join_next().await.is_some() {}
        tracing::info!("waybill stopped");
    }
}
