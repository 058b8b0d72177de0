//! The single writer: one thread owns the write connection and commits jobs
//! in groups, so many callers share one fsync; each caller hears back only
//! after the group's COMMIT returned.
//!
//! A group first runs optimistically: every job straight in the group
//! transaction, no savepoints (two statements per job saved on the hot
//! path). If any job fails, the group is rolled back and run again with
//! each job in its own savepoint, so one failing job does not undo the
//! others; jobs are `Fn` so they can run twice, and only the second run's
//! results are answered.
//!
//! A group is failed as a whole when its transaction is gone: SQLite rolls a
//! transaction back by itself on some errors (`RAISE(ROLLBACK)`, a full disk,
//! an I/O error), after which the connection is in autocommit mode. Then every
//! job that already ran in the group hears the error, the jobs not yet run are
//! refused without touching the database (a later job must not commit on its
//! own in autocommit mode), and nobody is told "stored".

use super::super::error::StoreError;
use rusqlite::{Connection, Transaction};
use tokio::sync::{mpsc, oneshot};

/// How a job runs inside the group transaction.
#[derive(Clone, Copy)]
enum Mode {
    /// Straight in the transaction; the caller rolls everything back on error.
    Direct,
    /// In a savepoint of its own.
    Isolated,
}

/// One caller's job: run (possibly twice), then answered once.
trait Work: Send {
    /// Runs inside the group transaction; `Ok` when the job succeeded.
    fn run(&mut self, txn: &Transaction<'_>, mode: Mode) -> bool;
    /// The group committed (`Ok`) or failed as a whole (`Err`).
    fn send(self: Box<Self>, group: Result<(), String>);
    /// This job's own statement took the group transaction down: its
    /// caller hears its own error (the others hear `Unavailable`).
    fn culprit(self: Box<Self>, why: String);
    /// Answers without running: the group failed before this job's turn.
    fn refuse(self: Box<Self>, why: String);
}

type Job = Box<dyn Work>;

struct Pending<R, F> {
    f: F,
    result: Option<Result<R, StoreError>>,
    tx: oneshot::Sender<Result<R, StoreError>>,
}

impl<R, F> Work for Pending<R, F>
where
    R: Send + 'static,
    F: Fn(&Connection) -> Result<R, StoreError> + Send + 'static,
{
    fn run(&mut self, txn: &Transaction<'_>, mode: Mode) -> bool {
        let result = match mode {
            Mode::Direct => (self.f)(txn),
            Mode::Isolated => match txn.execute_batch("SAVEPOINT job") {
                Ok(()) => match (self.f)(txn) {
                    Ok(v) => txn
                        .execute_batch("RELEASE job")
                        .map(|()| v)
                        .map_err(super::db_err),
                    Err(e) => {
                        // Keep the job's own error: the rollback fails too
                        // when the database already rolled the group back.
                        let _ = txn.execute_batch("ROLLBACK TO job; RELEASE job");
                        Err(e)
                    }
                },
                Err(e) => Err(super::db_err(e)),
            },
        };
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn send(self: Box<Self>, group: Result<(), String>) {
        let result = self
            .result
            .unwrap_or_else(|| Err(StoreError::Unavailable("the job did not run".into())));
        let _ = self.tx.send(match group {
            Ok(()) => result,
            Err(e) => Err(StoreError::Unavailable(e)),
        });
    }

    fn culprit(self: Box<Self>, why: String) {
        let _ = self.tx.send(match self.result {
            Some(Err(e)) => Err(e),
            _ => Err(StoreError::database(why)),
        });
    }

    fn refuse(self: Box<Self>, why: String) {
        let _ = self.tx.send(Err(StoreError::Unavailable(why)));
    }
}

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
                    commit_group(&mut conn, std::mem::take(&mut batch));
                }
            })?;
        Ok(Self { jobs: tx })
    }

    /// Runs `f` in the next group and returns its result once committed.
    /// `f` may run twice (see the module docs); only its last run counts.
    pub(crate) async fn run<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: Fn(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<Result<R, StoreError>>();
        self.jobs
            .send(Box::new(Pending {
                f,
                result: None,
                tx,
            }))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn begin(conn: &mut Connection) -> Result<Transaction<'_>, String> {
    conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(|e| format!("cannot begin a transaction: {e}"))
}

fn refuse_all(jobs: Vec<Job>, why: &str) {
    tracing::error!(error = %why, jobs = jobs.len(), "store writer");
    for job in jobs {
        job.refuse(why.to_string());
    }
}

fn commit_group(conn: &mut Connection, mut jobs: Vec<Job>) {
    // Optimistic run: all jobs straight in one transaction.
    if jobs.len() > 1 {
        let txn = match begin(conn) {
            Ok(t) => t,
            Err(why) => return refuse_all(jobs, &why),
        };
        let all_ok = jobs
            .iter_mut()
            .all(|job| job.run(&txn, Mode::Direct) && !txn.is_autocommit());
        if all_ok {
            let commit = txn.commit().map_err(|e| format!("commit failed: {e}"));
            if let Err(e) = &commit {
                tracing::error!(error = %e, "store group commit failed");
            }
            for job in jobs {
                job.send(commit.clone());
            }
            return;
        }
        // Undo the whole group (a no-op when the database already did).
        drop(txn);
    }
    commit_isolated(conn, jobs);
}

/// Runs every job in its own savepoint of one transaction.
fn commit_isolated(conn: &mut Connection, jobs: Vec<Job>) {
    let txn = match begin(conn) {
        Ok(t) => t,
        Err(why) => return refuse_all(jobs, &why),
    };
    let mut ran: Vec<Job> = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    let mut lost = None;
    for mut job in jobs.by_ref() {
        job.run(&txn, Mode::Isolated);
        ran.push(job);
        if txn.is_autocommit() {
            lost = Some("the group transaction was rolled back by the database".to_string());
            break;
        }
    }
    if let Some(why) = lost {
        tracing::error!(error = %why, ran = ran.len(), "store group failed as a whole");
        for job in jobs {
            job.refuse(why.clone());
        }
        drop(txn);
        let culprit = ran.pop();
        for job in ran {
            job.send(Err(why.clone()));
        }
        if let Some(culprit) = culprit {
            culprit.culprit(why);
        }
        return;
    }
    let commit = txn.commit().map_err(|e| format!("commit failed: {e}"));
    if let Err(e) = &commit {
        tracing::error!(error = %e, "store group commit failed");
    }
    for job in ran {
        job.send(commit.clone());
    }
}
