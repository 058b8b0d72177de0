//! The single writer: one thread owns the write connection and commits jobs
//! in groups, so many callers share one fsync. Each job runs in its own
//! savepoint (one failing job does not undo the others) and its caller hears
//! back only after the group's COMMIT returned.

use super::super::traits::StoreError;
use rusqlite::{Connection, Transaction};
use tokio::sync::{mpsc, oneshot};

/// Called after the group's commit with its result.
type Reply = Box<dyn FnOnce(Result<(), String>) + Send>;
/// Runs inside the group transaction.
type Job = Box<dyn FnOnce(&mut Transaction<'_>) -> Reply + Send>;

/// Handle to the writer thread.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer on `conn`; at most `group_max` jobs share a commit.
    pub(crate) fn start(mut conn: Connection, group_max: usize) -> std::io::Result<Self> {
        let (tx, mut rx) = mpsc::channel::<Job>(group_max.max(1) * 4);
        std::thread::Builder::new()
            .name("waybill-store-writer".into())
            .spawn(move || {
                let mut batch: Vec<Job> = Vec::with_capacity(group_max);
                while let Some(first) = rx.blocking_recv() {
                    batch.push(first);
                    while batch.len() < group_max.max(1) {
                        match rx.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    commit_group(&mut conn, &mut batch);
                }
            })?;
        Ok(Self { jobs: tx })
    }

    /// Runs `f` in the next group and returns its result once committed.
    pub(crate) async fn run<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<R, StoreError>>();
        let job: Job = Box::new(move |txn: &mut Transaction<'_>| {
            let result = match txn.savepoint() {
                Ok(mut sp) => {
                    let r = f(&sp);
                    let closed = if r.is_ok() {
                        sp.commit()
                    } else {
                        sp.rollback()
                    };
                    match closed {
                        Ok(()) => r,
                        Err(e) => Err(StoreError::Database(e.to_string())),
                    }
                }
                Err(e) => Err(StoreError::Database(e.to_string())),
            };
            Box::new(move |commit: Result<(), String>| {
                let _ = tx.send(match commit {
                    Ok(()) => result,
                    Err(e) => Err(StoreError::Database(format!("commit failed: {e}"))),
                });
            })
        });
        self.jobs.send(job).await.map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn commit_group(conn: &mut Connection, batch: &mut Vec<Job>) {
    let mut txn = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(t) => t,
        Err(e) => {
            let msg = e.to_string();
            for job in batch.drain(..) {
                // Never ran: report the failure without touching the database.
                drop(job);
                tracing::error!(error = %msg, "store writer cannot begin a transaction");
            }
            return;
        }
    };
    let replies: Vec<Reply> = batch.drain(..).map(|job| job(&mut txn)).collect();
    let commit = txn.commit().map_err(|e| e.to_string());
    if let Err(e) = &commit {
        tracing::error!(error = %e, "store group commit failed");
    }
    for reply in replies {
        reply(commit.clone());
    }
}
