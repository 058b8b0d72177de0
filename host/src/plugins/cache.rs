//! On-disk cache of compiled components keyed by the component's sha256 and
//! the engine's compatibility hash, so a restart does not recompile.
//!
//! Files are written to a temporary name and renamed into place, and a cached
//! file is never rewritten once written: `deserialize_file` memory-maps it.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use wasmtime::Engine;
use wasmtime::component::Component;

pub(crate) struct ComponentCache {
    dir: PathBuf,
    engine_tag: String,
}

impl ComponentCache {
    pub(crate) fn open(dir: &Path, engine: &Engine) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("cannot create plugin cache {}: {e}", dir.display()))?;
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

    /// The cached compiled component for `sha256`, if present and loadable.
    pub(crate) fn load(&self, engine: &Engine, sha256: &str) -> Option<Component> {
        let path = self.path_for(sha256);
        if !path.exists() {
            return None;
        }
        // SAFETY: the file was produced by `Engine::precompile_component` of
        // an engine with the same compatibility hash (it is in the name), is
        // written once via rename and never modified afterwards; the cache
        // directory belongs to the host. wasmtime still checks the header and
        // refuses incompatible artifacts.
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize_file(engine, &path) };
        match loaded {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "ignoring unusable cached component");
                None
            }
        }
    }

    /// Stores the compiled form of `wasm` and returns it loaded.
    pub(crate) fn store(
        &self,
        engine: &Engine,
        sha256: &str,
        wasm: &[u8],
    ) -> anyhow::Result<Component> {
        let compiled = engine.precompile_component(wasm)?;
        let path = self.path_for(sha256);
        // Unique per write: several loads of the same component may race
        // (parallel tests, a restart during a hot swap); each renames a
        // whole file into place.
        static WRITES: AtomicU64 = AtomicU64::new(0);
        let n = WRITES.fetch_add(1, Ordering::Relaxed);
        let tmp = self
            .dir
            .join(format!(".{sha256}.{}.{n}.tmp", std::process::id()));
        std::fs::write(&tmp, &compiled)?;
        std::fs::rename(&tmp, &path)?;
        // SAFETY: as in `load`: freshly written by this engine, never modified.
        #[allow(unsafe_code)]
        let component = unsafe { Component::deserialize_file(engine, &path) }?;
        Ok(component)
    }
}
