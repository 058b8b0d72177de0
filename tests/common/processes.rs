//! Several `waybill serve` processes: [`Hosts`], the children that are
//! killed when the test ends (an assertion that unwinds too), so no host
//! is left polling the database, and the two ways to stop one. The schema
//! they share comes from [`super::store::Schema`]. Included with `#[path]`
//! by the tests that run the binary.
#![allow(dead_code)]

use std::process::Child;

/// Host processes, killed (SIGKILL) on drop when still running.
#[derive(Default)]
pub struct Hosts(pub Vec<Child>);

impl std::ops::Deref for Hosts {
    type Target = Vec<Child>;
    fn deref(&self) -> &Vec<Child> {
        &self.0
    }
}

impl std::ops::DerefMut for Hosts {
    fn deref_mut(&mut self) -> &mut Vec<Child> {
        &mut self.0
    }
}

impl Drop for Hosts {
    fn drop(&mut self) {
        for child in &mut self.0 {
            if let Ok(None) = child.try_wait() {
                kill_9(child);
            }
        }
    }
}

/// SIGKILL, then reap.
pub fn kill_9(child: &mut Child) {
    child.kill().expect("SIGKILL");
    let _ = child.wait();
}

/// SIGTERM (a graceful stop), then reap.
pub fn stop(child: &mut Child) {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}
