//! On-disk cache of compiled components keyed by the component's sha256 and
//! the engine's compatibility hash, so a restart does not recompile.
//!
//! Loading a compiled artifact is `unsafe` (wasmtime runs its machine code
//! as is), so the cache trusts nothing it did not just verify:
//! - each artifact `<key>.cwasm` has its sha256 beside it in
//!   `<key>.cwasm.sha256`; the artifact is read into memory, hashed, and only
//!   the verified bytes are deserialised (nothing is mapped from the file, so
//!   the file cannot change between check and use);
//! - a missing, mismatched or unreadable artifact or checksum is deleted and
//!   the component recompiled, never loaded;
//! - files are written to a temporary name, fsynced, renamed into place, and
//!   the directory fsynced, so a crash leaves a whole file or none;
//! - the directory is created 0700, and an existing one that others may
//!   write to is made 0700 (or refused if it cannot be).

use sha2::{Digest, Sha256};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Why the cache directory cannot be used or a component not compiled.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The directory could not be created or inspected.
    #[error("cannot create plugin cache directory {path}: {source}")]
    Create {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The path exists and is not a directory.
    #[error("plugin cache {path} is not a directory")]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Others may write to the directory and it cannot be made private.
    #[error(
        "plugin cache directory {path} has mode {mode:o} (others may plant compiled code there) \
         and cannot be made 0700: {source}"
    )]
    NotPrivate {
        /// The directory.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
        /// Why `chmod` failed.
        source: std::io::Error,
    },
    /// The component did not compile.
    #[error("cannot compile component: {message}")]
    Compile {
        /// The compiler's reason.
        message: String,
    },
}

pub(crate) struct ComponentCache {
    dir: PathBuf,
    engine_tag: String,
}

impl ComponentCache {
    pub(crate) fn open(dir: &Path, engine: &Engine) -> Result<Self, CacheError> {
        prepare_dir(dir)?;
        let mut h = DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Ok(Self {
            dir: dir.to_path_buf(),
            engine_tag: format!("{:016x}", h.finish()),
        })
    }

    fn path_for(&self, sha256: &str) -> PathBuf {
        self.dir.join(format!("{sha256}-{}.cwasm", self.engine_tag))
    }

    /// The cached compiled component for `sha256`, if present, intact and
    /// loadable; anything else found under its name is deleted.
    pub(crate) fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.path_for(sha256);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => {
                self.discard(&path, &format!("unreadable: {e}"));
                return None;
            }
        };
        let expected = std::fs::read_to_string(checksum_path(&path)).ok();
        let actual = hex::encode(Sha256::digest(&bytes));
        match expected.as_deref().map(str::trim) {
            Some(sum) if sum == actual => {}
            Some(_) => {
                self.discard(&path, "checksum mismatch (tampered or truncated)");
                return None;
            }
            None => {
                self.discard(&path, "checksum missing");
                return None;
            }
        }
        // SAFETY: `bytes` are exactly what this host wrote (their sha256
        // matches the checksum written beside them into a directory only the
        // host may write to), produced by `Engine::precompile_component` of
        // an engine with the same compatibility hash (it is in the name).
        // They are in memory, so the file changing now cannot affect them.
        // wasmtime still checks the header and refuses incompatible ones.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize(engine, &bytes) };
        match loaded {
            Ok(c) => Some(c),
            Err(e) => {
                self.discard(&path, &format!("not loadable: {e}"));
                None
            }
        }
    }

    /// Compiles `wasm`, stores the artifact with its checksum and returns
    /// the component. A cache that cannot be written only costs the next
    /// start a compile: the component is returned anyway.
    pub(crate) fn store(
        &self,
        engine: &Engine,
        sha256: &str,
        wasm: &[u8],
    ) -> Result<Component, CacheError> {
        let compiled = engine
            .precompile_component(wasm)
            .map_err(|e| CacheError::Compile {
                message: format!("{e:#}"),
            })?;
        // SAFETY: produced by this engine a moment ago, from memory.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| {
            CacheError::Compile {
                message: format!("{e:#}"),
            }
        })?;
        let path = self.path_for(sha256);
        if let Err(e) = self.persist(&path, &compiled) {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the compiled plugin cache");
        }
        Ok(component)
    }

    /// Writes the artifact, then its checksum, each whole via rename, then
    /// syncs the directory. A crash in between leaves an artifact whose
    /// checksum is missing or stale: it is recompiled, never loaded.
    fn persist(&self, path: &Path, compiled: &[u8]) -> std::io::Result<()> {
        let sum = hex::encode(Sha256::digest(compiled));
        write_atomically(&self.dir, path, compiled)?;
        write_atomically(&self.dir, &checksum_path(path), sum.as_bytes())?;
        std::fs::File::open(&self.dir)?.sync_all()
    }

    fn discard(&self, path: &Path, why: &str) {
        tracing::warn!(path = %path.display(), reason = why, "discarding cached compiled plugin; recompiling");
        for p in [path.to_path_buf(), checksum_path(path)] {
            if let Err(e) = std::fs::remove_file(&p)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(path = %p.display(), error = %e, "cannot delete cached file");
            }
        }
    }
}

fn checksum_path(artifact: &Path) -> PathBuf {
    let mut name = artifact.as_os_str().to_os_string();
    name.push(".sha256");
    PathBuf::from(name)
}

/// Writes `bytes` to a fresh temporary file in `dir` (mode 0600), fsyncs it
/// and renames it to `dest`.
fn write_atomically(dir: &Path, dest: &Path, bytes: &[u8]) -> std::io::Result<()> {
    // Unique per write: several loads of the same component may race
    // (parallel tests, a restart during a hot swap); each renames a whole
    // file into place.
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let name = dest.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, dest)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Creates `dir` (0700) or checks an existing one: a directory that group
/// or others may access is made 0700, or refused if that fails.
fn prepare_dir(dir: &Path) -> Result<(), CacheError> {
    let create = |source| CacheError::Create {
        path: dir.to_path_buf(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(create)?;
    let meta = std::fs::metadata(dir).map_err(create)?;
    if !meta.is_dir() {
        return Err(CacheError::NotADirectory {
            path: dir.to_path_buf(),
        });
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(
                |source| CacheError::NotPrivate {
                    path: dir.to_path_buf(),
                    mode,
                    source,
                },
            )?;
            tracing::warn!(dir = %dir.display(), mode = format!("{mode:o}"), "plugin cache directory was accessible to others; made it 0700");
        }
    }
    Ok(())
}
