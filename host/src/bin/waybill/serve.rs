//! `waybill serve --config waybill.toml`: runs the host until SIGTERM or
//! Ctrl-C, then shuts down gracefully (stop accepting, finish or persist
//! work in flight) and exits 0.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ServeArgs {
    /// The configuration file.
    #[arg(long, short, default_value = "waybill.toml", env = "WAYBILL_CONFIG")]
    config: PathBuf,
    /// Listen here instead of `server.listen` (e.g. 127.0.0.1:0).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// Serve the admin API here instead of `server.admin_listen`.
    #[arg(long)]
    admin_listen: Option<std::net::SocketAddr>,
    /// This host's name instead of `server.host_id` (several hosts sharing
    /// one configuration file and one PostgreSQL store).
    #[arg(long, env = "WAYBILL_HOST_ID")]
    host_id: Option<String>,
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut config = match waybill::config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    if let Some(admin) = args.admin_listen {
        config.server.admin_listen = admin;
    }
    if let Some(id) = args.host_id {
        if let Some(why) = waybill::config::host_id_error(&id) {
            eprintln!("error: --host-id {id:?}: {why}");
            return Ok(ExitCode::from(2));
        }
        config.server.host_id = Some(id);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let service = waybill::runtime::start(config, args.listen).await?;
        // Tests and scripts read the bound addresses from these lines. A
        // reader that closed the pipe after the first line must not kill
        // the host (println! panics on EPIPE), so write errors are ignored.
        {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "listening on {}\nadmin listening on {}",
                service.addr, service.admin_addr
            );
            let _ = out.flush();
        }
        wait_for_signal().await;
        tracing::info!("shutdown requested");
        service.shutdown().await;
        Ok::<_, anyhow::Error>(ExitCode::SUCCESS)
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
