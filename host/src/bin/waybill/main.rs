//! The `waybill` command: run the host, test and inspect plugins, operate a
//! running host. Each subcommand lives in its own module. The demo is a
//! binary of its own (`host/demo`, `cargo xtask demo`).

mod admin_client;
mod canary_cmd;
mod dlq;
mod exceptions_cmd;
mod plugin_cmd;
mod plugin_new;
mod reconcile_cmd;
mod schema_cmd;
mod serve;
mod shadow_cmd;
mod sync_cmd;

use clap::{Parser, Subcommand};

/// See the `mimalloc` entry in `host/Cargo.toml`.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "waybill",
    version,
    about = "Keeps ERP, TMS and billing in sync through sandboxed Wasm mapping plugins"
)]
struct Cli {
    /// Where compiled plugins are cached between runs.
    #[arg(
        long,
        global = true,
        env = "WAYBILL_CACHE_DIR",
        default_value = ".waybill/cache"
    )]
    cache_dir: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create, run, test or inspect a plugin; operate a host's plugins.
    Plugin {
        #[command(subcommand)]
        command: plugin_cmd::PluginCommand,
    },
    /// Run the host: ingest, processing, delivery, admin API.
    Serve(serve::ServeArgs),
    /// Dead letters: list and replay (through a running host).
    Dlq {
        #[command(subcommand)]
        command: dlq::DlqCommand,
    },
    /// The exception queue: list, show, approve, reject, retry, replay, resolve.
    Exceptions {
        #[command(subcommand)]
        command: exceptions_cmd::ExceptionsCommand,
    },
    /// Reconciliation of ERP, TMS and billing: run now, list runs (through a running host).
    Reconcile {
        #[command(subcommand)]
        command: reconcile_cmd::ReconcileCommand,
    },
    /// Reference-data sync jobs: run one now (through a running host).
    Sync {
        #[command(subcommand)]
        command: sync_cmd::SyncCommand,
    },
    /// Canonical schemas: compatibility and plugin contract checks.
    Schema {
        #[command(subcommand)]
        command: schema_cmd::SchemaCommand,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = waybill::runtime::init_tracing("warn") {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Plugin { command } => plugin_cmd::run(command, &cli.cache_dir),
        Command::Serve(args) => serve::run(args),
        Command::Dlq { command } => dlq::run(command),
        Command::Exceptions { command } => exceptions_cmd::run(command),
        Command::Sync { command } => sync_cmd::run(command),
        Command::Reconcile { command } => reconcile_cmd::run(command),
        Command::Schema { command } => schema_cmd::run(command, &cli.cache_dir),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
