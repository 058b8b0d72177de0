//! Sets the stage: a fresh working directory with its own copy of the
//! built plugins (the demo hot-swaps plugins there, never in
//! `target/plugins`), the four simulated partner systems on loopback ports,
//! and the real host started in-process on the embedded store.

use super::api::Api;
use super::host_config::{self, Paths, Urls};
use anyhow::Context;
use std::path::{Path, PathBuf};
use waybill::plugins::Language;
use waybill::runtime::Service;
use waybill_sims::{BillingSim, ErpSim, PortalSim, TmsSim};

/// The demo builds of acme-tms-milestone (from the test-only
/// `plugins/sabotage-milestone`), under `<plugins>/test/demo/`.
pub const BROKEN_BUILD: &str = "acme-tms-milestone-1.1.0";
pub const FIXED_BUILD: &str = "acme-tms-milestone-1.1.1";

/// Where things come from and go.
pub struct Options {
    pub plugins: PathBuf,
    pub schemas: PathBuf,
    pub samples: PathBuf,
    pub workdir: PathBuf,
    pub cache: PathBuf,
}

/// Everything running.
pub struct Stage {
    pub erp: ErpSim,
    pub tms: TmsSim,
    pub billing: BillingSim,
    pub portal: PortalSim,
    pub service: Service,
    pub api: Api,
    /// The plugins directory the host watches.
    pub plugins: PathBuf,
    /// Where the demo builds of the milestone plugin are.
    pub builds: PathBuf,
    pub samples: PathBuf,
    pub workdir: PathBuf,
}

/// Copies every `*.wasm` and `*.fixtures/` of `from` (not its
/// subdirectories of test and demo builds) into `to`, except the plugins
/// written in JavaScript or Python: no demo route uses them, and the host
/// would compile their engines (tens of MiB) at start-up for nothing; a
/// machine without Node.js or Python has none to skip.
fn copy_plugins(from: &Path, to: &Path) -> anyhow::Result<usize> {
    std::fs::create_dir_all(to)?;
    let mut n = 0;
    let mut skipped = std::collections::BTreeSet::new();
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_file() && name.ends_with(".wasm") {
            if Language::detect(&std::fs::read(&path)?) != Language::Compiled {
                skipped.insert(name.trim_end_matches(".wasm").to_string());
                continue;
            }
            std::fs::copy(&path, to.join(name))?;
            n += 1;
        }
    }
    for entry in std::fs::read_dir(from)? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_dir()
            && let Some(plugin) = name.strip_suffix(".fixtures")
            && !skipped.contains(plugin)
        {
            std::fs::create_dir_all(to.join(name))?;
            for f in std::fs::read_dir(&path)? {
                let f = f?.path();
                if let Some(file) = f.file_name().filter(|_| f.is_file()) {
                    std::fs::copy(&f, to.join(name).join(file))?;
                }
            }
        }
    }
    Ok(n)
}

fn absolute(p: &Path, what: &str, hint: &str) -> anyhow::Result<PathBuf> {
    p.canonicalize()
        .with_context(|| format!("{what} {} ({hint})", p.display()))
}

impl Stage {
    pub async fn start(o: &Options) -> anyhow::Result<Stage> {
        let built = absolute(&o.plugins, "plugins directory", "run `cargo xtask plugins`")?;
        let builds = built.join("test").join("demo");
        for b in [BROKEN_BUILD, FIXED_BUILD] {
            let f = builds.join(format!("{b}.wasm"));
            anyhow::ensure!(
                f.is_file(),
                "demo build {} is missing (run `cargo xtask plugins`)",
                f.display()
            );
        }
        let schemas = absolute(
            &o.schemas,
            "schemas directory",
            "run from the repository root",
        )?;
        let samples = absolute(
            &o.samples,
            "samples directory",
            "run from the repository root",
        )?;
        if o.workdir.exists() {
            std::fs::remove_dir_all(&o.workdir)
                .with_context(|| format!("cannot reset {}", o.workdir.display()))?;
        }
        std::fs::create_dir_all(&o.workdir)?;
        std::fs::create_dir_all(&o.cache)?;
        let workdir = o.workdir.canonicalize()?;
        let cache = o.cache.canonicalize()?;
        let plugins = workdir.join("plugins");
        let copied = copy_plugins(&built, &plugins)?;

        let (erp, tms, billing, portal) = (
            ErpSim::start().await?,
            TmsSim::start().await?,
            BillingSim::start().await?,
            PortalSim::start().await?,
        );
        let urls = Urls {
            erp: erp.url(""),
            tms: tms.url(""),
            billing: billing.url(""),
            portal: portal.url(""),
        };
        println!("== Partner systems (simulated, each with its own records) on loopback");
        for (name, url) in [
            ("Northwind ERP", &urls.erp),
            ("Acme TMS", &urls.tms),
            ("Ledgerly Billing", &urls.billing),
            ("customer portal", &urls.portal),
        ] {
            println!("   {name:<17} {url}");
        }
        let paths = Paths {
            plugins: &plugins,
            schemas: &schemas,
            cache: &cache,
            workdir: &workdir,
        };
        let config_path = workdir.join("waybill.toml");
        std::fs::write(&config_path, host_config::host_toml(&paths, &urls))?;
        let config = waybill::config::load(&config_path).map_err(|e| anyhow::anyhow!("{e}"))?;
        let service = waybill::runtime::start(config, None).await?;
        let api = Api::new(service.base_url(), service.admin_url());
        println!(
            "\n== Waybill host on {} (admin API on {}), embedded store {}",
            api.base,
            api.admin_base,
            workdir.join("waybill.db").display()
        );
        println!(
            "   configuration {}; {copied} plugins copied to {}",
            config_path.display(),
            plugins.display()
        );
        let mut active: Vec<String> = service
            .app
            .registry
            .status()
            .into_iter()
            .filter_map(|p| p.active.map(|v| format!("{}@{v}", p.name)))
            .collect();
        active.sort();
        for line in active.chunks(4) {
            println!("   {}", line.join("  "));
        }
        Ok(Stage {
            erp,
            tms,
            billing,
            portal,
            service,
            api,
            plugins,
            builds,
            samples,
            workdir,
        })
    }
}
