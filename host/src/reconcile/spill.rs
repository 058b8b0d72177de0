//! The run's scratch space: every record goes into a throw-away SQLite file
//! (one per run, deleted when dropped) in batched transactions; once all
//! snapshots are in, an index on (entity, id, system) is built and one
//! ordered query streams the records back grouped by (entity, id). SQLite
//! does the sorting on disk, so memory holds one group at a time whatever
//! the record count.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, params};

use super::error::ReconcileError;
use super::record::SnapshotRecord;

/// Page cache of the scratch database (negative: KiB).
const CACHE_KIB: i64 = 32 << 10;

pub(crate) struct Spill {
    /// Declared before `_file`: closed before the file is removed.
    conn: Connection,
    _file: ScratchFile,
    path: PathBuf,
    records: u64,
}

/// Removes the scratch file when dropped.
struct ScratchFile(PathBuf);

impl Spill {
    /// A fresh scratch file in `dir` for run `run_id`.
    pub fn create(dir: &Path, run_id: &str) -> Result<Self, ReconcileError> {
        std::fs::create_dir_all(dir).map_err(|source| ReconcileError::Scratch {
            path: dir.to_owned(),
            source,
        })?;
        let safe: String = run_id
            .chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
                _ => '_',
            })
            .collect();
        let path = dir.join(format!("reconcile-{safe}.sqlite"));
        let fail = |source| ReconcileError::Spill {
            path: path.clone(),
            source,
        };
        let file = ScratchFile(path.clone());
        let conn = Connection::open(&path).map_err(fail)?;
        // Scratch data: no journal, no fsync; a crash just loses the run.
        conn.execute_batch(&format!(
            "PRAGMA journal_mode = OFF;
             PRAGMA synchronous = OFF;
             PRAGMA locking_mode = EXCLUSIVE;
             PRAGMA temp_store = FILE;
             PRAGMA cache_size = -{CACHE_KIB};
             CREATE TABLE records (
                 entity TEXT NOT NULL,
                 id TEXT NOT NULL,
                 system TEXT NOT NULL,
                 status TEXT,
                 amount_minor INTEGER,
                 currency TEXT,
                 attributes TEXT,
                 updated_at TEXT
             );"
        ))
        .map_err(fail)?;
        Ok(Self {
            conn,
            _file: file,
            path,
            records: 0,
        })
    }

    /// The scratch file.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records written so far.
    #[cfg(test)]
    pub fn records(&self) -> u64 {
        self.records
    }

    fn fail(&self, source: rusqlite::Error) -> ReconcileError {
        ReconcileError::Spill {
            path: self.path.clone(),
            source,
        }
    }

    /// Writes `records` in one transaction.
    pub fn insert(&mut self, records: &[SnapshotRecord]) -> Result<(), ReconcileError> {
        let path = self.path.clone();
        let fail = |source| ReconcileError::Spill {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(fail)?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO records (entity, id, system, status, amount_minor, currency, attributes, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )
                .map_err(fail)?;
            for r in records {
                let attributes = if r.attributes.is_empty() {
                    None
                } else {
                    serde_json::to_string(&r.attributes).ok()
                };
                stmt.execute(params![
                    r.entity,
                    r.id,
                    r.system,
                    r.status,
                    r.amount_minor,
                    r.currency,
                    attributes,
                    r.updated_at
                ])
                .map_err(fail)?;
            }
        }
        tx.commit().map_err(fail)?;
        self.records += records.len() as u64;
        Ok(())
    }

    /// Builds the (entity, id, system) index: call once, after the last insert.
    pub fn index(&mut self) -> Result<(), ReconcileError> {
        self.conn
            .execute_batch("CREATE INDEX records_key ON records (entity, id, system)")
            .map_err(|e| self.fail(e))
    }

    /// Streams the records grouped by (entity, id), ordered by entity, id,
    /// system and arrival. `visit` returns `false` to stop early. Returns
    /// the number of groups visited.
    pub fn for_each_group<E: From<ReconcileError>>(
        &self,
        mut visit: impl FnMut(&[SnapshotRecord]) -> Result<bool, E>,
    ) -> Result<u64, E> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT entity, id, system, status, amount_minor, currency, attributes, updated_at
                 FROM records ORDER BY entity, id, system, rowid",
            )
            .map_err(|e| self.fail(e))?;
        let mut rows = stmt.query([]).map_err(|e| self.fail(e))?;
        let mut group: Vec<SnapshotRecord> = Vec::new();
        let mut groups = 0u64;
        while let Some(row) = rows.next().map_err(|e| self.fail(e))? {
            let record = read_row(row).map_err(|e| self.fail(e))?;
            let same = group
                .first()
                .is_some_and(|g| g.entity == record.entity && g.id == record.id);
            if !same && !group.is_empty() {
                groups += 1;
                if !visit(&group)? {
                    return Ok(groups);
                }
                group.clear();
            }
            group.push(record);
        }
        if !group.is_empty() {
            groups += 1;
            visit(&group)?;
        }
        Ok(groups)
    }
}

fn read_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<SnapshotRecord> {
    let attributes: Option<String> = row.get(6)?;
    Ok(SnapshotRecord {
        entity: row.get(0)?,
        id: row.get(1)?,
        system: row.get(2)?,
        status: row.get(3)?,
        amount_minor: row.get(4)?,
        currency: row.get(5)?,
        attributes: attributes
            .and_then(|a| serde_json::from_str(&a).ok())
            .unwrap_or_default(),
        updated_at: row.get(7)?,
    })
}

impl Drop for ScratchFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.0)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.0.display(), error = %e, "reconcile scratch file not removed");
        }
    }
}
