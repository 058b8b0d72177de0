//! The real `waybill` binary as a child process: `waybill serve` on a
//! configuration, for tests that kill it, restart it or measure its memory,
//! and one-shot commands ([`run`]) for the CLI tests.

#![allow(dead_code)]

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts `waybill serve --config <config> <extra>` and returns it with its
/// partner base URL, read from its first line (`listening on <addr>`). Its
/// logs go nowhere, unless `WAYBILL_TEST_HOST_LOG` is set (a log filter
/// such as `info`): then they go to the terminal, to debug a failing test.
pub fn serve(config: &Path, extra: &[&str]) -> (Child, String) {
    let (child, base, _) = serve_with_admin(config, extra);
    (child, base)
}

/// [`serve`], also returning the admin base URL (its second line,
/// `admin listening on <addr>`).
pub fn serve_with_admin(config: &Path, extra: &[&str]) -> (Child, String, String) {
    let (filter, stderr) = match std::env::var("WAYBILL_TEST_HOST_LOG") {
        Ok(filter) => (filter, Stdio::inherit()),
        Err(_) => ("error".to_string(), Stdio::null()),
    };
    spawn_serve(config, extra, &[("WAYBILL_LOG", &filter)], stderr)
}

/// [`serve_with_admin`] with its logs (`WAYBILL_LOG=<filter>` and the
/// given `WAYBILL_LOG_FORMAT`) written to `log`, for tests that read them.
pub fn serve_logging(
    config: &Path,
    filter: &str,
    format: &str,
    log: &Path,
) -> (Child, String, String) {
    let file = std::fs::File::create(log).expect("log file");
    spawn_serve(
        config,
        &[],
        &[("WAYBILL_LOG", filter), ("WAYBILL_LOG_FORMAT", format)],
        Stdio::from(file),
    )
}

fn spawn_serve(
    config: &Path,
    extra: &[&str],
    env: &[(&str, &str)],
    stderr: Stdio,
) -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_waybill"))
        .args(["serve", "--config"])
        .arg(config)
        .args(extra)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start waybill");
    let stdout = child.stdout.take().expect("stdout");
    let mut reader = std::io::BufReader::new(stdout);
    let mut read = |prefix: &str| {
        let mut line = String::new();
        reader.read_line(&mut line).expect("read address");
        let addr = line
            .trim()
            .strip_prefix(prefix)
            .unwrap_or_else(|| panic!("unexpected line {line:?}, expected {prefix}<addr>"))
            .to_string();
        format!("http://{addr}")
    };
    let base = read("listening on ");
    let admin = read("admin listening on ");
    (child, base, admin)
}

/// Runs `waybill <args>` to the end; returns (exit code, stdout, stderr).
pub fn run<I, S>(args: I) -> (i32, String, String)
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_waybill"))
        .args(args)
        .output()
        .expect("run waybill");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// [`run`] with the tests' compiled-plugin cache (`target/waybill-test-cache`),
/// for the commands that load plugins.
pub fn run_cached<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_waybill"))
        .args(args)
        .env(
            "WAYBILL_CACHE_DIR",
            super::common::repo_root().join("target/waybill-test-cache"),
        )
        .output()
        .expect("run waybill");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
