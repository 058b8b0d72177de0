//! The real `waybill` binary as a child process: `waybill serve` on a
//! configuration, for tests that kill it, restart it or measure its memory.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Starts `waybill serve --config <config> <extra>` and returns it with its
/// partner base URL, read from its first line (`listening on <addr>`). Its
/// logs go nowhere, unless `WAYBILL_TEST_HOST_LOG` is set (a log filter
/// such as `info`): then they go to the terminal, to debug a failing test.
pub fn serve(config: &Path, extra: &[&str]) -> (Child, String) {
    let (filter, stderr) = match std::env::var("WAYBILL_TEST_HOST_LOG") {
        Ok(filter) => (filter, Stdio::inherit()),
        Err(_) => ("error".to_string(), Stdio::null()),
    };
    let mut child = Command::new(env!("CARGO_BIN_EXE_waybill"))
        .args(["serve", "--config"])
        .arg(config)
        .args(extra)
        .env("WAYBILL_LOG", filter)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start waybill");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    std::io::BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read address");
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, format!("http://{addr}"))
}
