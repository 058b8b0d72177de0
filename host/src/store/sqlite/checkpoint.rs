//! WAL checkpoints off the writer: a thread of its own copies committed
//! pages from the WAL back into the database file every few hundred
//! milliseconds (`PASSIVE`: it never blocks the writer or a reader), so the
//! writer thread, the pipeline's bottleneck, does not spend its time on it.
//! The writer still checkpoints by itself when the WAL grows far past what
//! this thread keeps it at (the thread stalled, a reader held a snapshot
//! for long).

use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

/// How often the thread checkpoints.
const EVERY: Duration = Duration::from_millis(200);

/// Dropping it stops the thread.
pub(super) struct Stop(#[allow(dead_code)] mpsc::Sender<()>);

/// Starts the checkpoint thread on its own connection to `path`.
pub(super) fn start(path: &Path) -> std::io::Result<Stop> {
    let conn = super::open_conn(path, false).map_err(|e| std::io::Error::other(e.to_string()))?;
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("waybill-store-checkpoint".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(EVERY) {
                let result = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, i64>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                });
                match result {
                    Ok((busy, _, _)) if busy != 0 => {
                        tracing::debug!("WAL checkpoint skipped: busy");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                }
            }
        })?;
    Ok(Stop(stop))
}
