//! The single writer: one thread owns the write connection and commits jobs
//! in groups, so many callers share one fsync. Each job runs in its own
//! savepoint (one failing job does not undo the others) and its caller hears
//! back only after the group's COMMIT returned.
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

/// Tells one caller how its job ended once the group's fate is known.
trait Answer: Send {
    /// The group committed (`Ok`) or failed as a whole (`Err`).
    fn send(self: Box<Self>, group: Result<(), String>);
    /// This job's own statement took the group transaction down: its
    /// caller hears its own error (the others hear `Unavailable`).
    fn culprit(self: Box<Self>, why: String);
}

/// One caller's job.
trait Work: Send {
    /// Runs inside the group transaction (in a savepoint of its own).
    fn run(self: Box<Self>, txn: &mut Transaction<'_>) -> Box<dyn Answer>;
    /// Answers without running: the group failed before this job's turn.
    fn refuse(self: Box<Self>, why: String);
}

type Job = Box<dyn Work>;

struct Pending<R, F> {
    f: F,
    tx: oneshot::Sender<Result<R, StoreError>>,
}

struct Ran<R> {
    result: Result<R, StoreError>,
    tx: oneshot::Sender<Result<R, StoreError>>,
}

impl<R: Send + 'static> Answer for Ran<R> {
    fn send(self: Box<Self>, group: Result<(), String>) {
        let _ = self.tx.send(match group {
            Ok(()) => self.result,
            Err(e) => Err(StoreError::Unavailable(e)),
        });
    }

    fn culprit(self: Box<Self>, why: String) {
        let _ = self.tx.send(match self.result {
            Err(e) => Err(e),
            Ok(_) => Err(StoreError::database(why)),
        });
    }
}

impl<R, F> Work for Pending<R, F>
where
    R: Send + 'static,
    F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
{
    fn run(self: Box<Self>, txn: &mut Transaction<'_>) -> Box<dyn Answer> {
        let Pending { f, tx } = *self;
        let result = match txn.savepoint() {
            Ok(mut sp) => match f(&sp) {
                Ok(v) => sp.commit().map(|()| v).map_err(super::db_err),
                Err(e) => {
                    // Keep the job's own error: the rollback fails too when
                    // the database already rolled the whole group back.
                    let _ = sp.rollback();
                    Err(e)
                }
            },
            Err(e) => Err(super::db_err(e)),
        };
        Box::new(Ran { result, tx })
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
        self.jobs
            .send(Box::new(Pending { f, tx }))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

fn commit_group(conn: &mut Connection, batch: &mut Vec<Job>) {
    let mut txn = match conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate) {
        Ok(t) => t,
        Err(e) => {
            let why = format!("cannot begin a transaction: {e}");
            tracing::error!(error = %why, jobs = batch.len(), "store writer");
            for job in batch.drain(..) {
                job.refuse(why.clone());
            }
            return;
        }
    };
    let mut answers: Vec<Box<dyn Answer>> = Vec::with_capacity(batch.len());
    let mut jobs = batch.drain(..);
    let mut lost = None;
    for job in jobs.by_ref() {
        answers.push(job.run(&mut txn));
        if txn.is_autocommit() {
            lost = Some("the group transaction was rolled back by the database".to_string());
            break;
        }
    }
    if let Some(why) = lost {
        tracing::error!(error = %why, ran = answers.len(), "store group failed as a whole");
        for job in jobs {
            job.refuse(why.clone());
        }
        drop(txn);
        let culprit = answers.pop();
        for answer in answers {
            answer.send(Err(why.clone()));
        }
        if let Some(culprit) = culprit {
            culprit.culprit(why);
        }
        return;
    }
    drop(jobs);
    let commit = txn.commit().map_err(|e| format!("commit failed: {e}"));
    if let Err(e) = &commit {
        tracing::error!(error = %e, "store group commit failed");
    }
    for answer in answers {
        answer.send(commit.clone());
    }
}
