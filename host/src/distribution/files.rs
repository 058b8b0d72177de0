//! Fixture files as the store keeps them: (path relative to the fixtures
//! directory, bytes). Read from a directory for a push, checked so a stored
//! path can never leave the directory it is written back into, and
//! written back into a directory of the plugin cache (keyed by the hash of
//! the whole set) when a host admits a version from the store.

use sha2::{Digest, Sha256};
use std::path::{Component, Path, PathBuf};

/// Most fixture files one version may carry.
pub const MAX_FIXTURE_FILES: usize = 1000;

/// A fixture set that cannot be read or used.
#[derive(Debug, thiserror::Error)]
pub enum FixtureFileError {
    /// A path that is not a plain relative path.
    #[error("fixture path {path:?}: {why}")]
    Path {
        /// The path.
        path: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// Too many files.
    #[error("{count} fixture files; at most {MAX_FIXTURE_FILES}")]
    TooMany {
        /// How many there were.
        count: usize,
    },
    /// The directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Refuses a fixture path that is empty, absolute, has `.`/`..` or empty
/// parts, a backslash, a NUL, or is longer than 255 bytes.
pub fn check_fixture_path(path: &str) -> Result<(), FixtureFileError> {
    let refuse = |why| {
        Err(FixtureFileError::Path {
            path: path.to_string(),
            why,
        })
    };
    if path.is_empty() || path.len() > 255 {
        return refuse("must be 1-255 bytes");
    }
    if path.contains('\\') || path.contains('\0') {
        return refuse("must not contain a backslash or NUL");
    }
    if path.starts_with('/')
        || path
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
    {
        return refuse("must be relative, without empty, '.' or '..' parts");
    }
    if !Path::new(path)
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return refuse("must be a plain relative path");
    }
    Ok(())
}

/// Every file under `dir` (recursively), as (relative path with `/`,
/// bytes), sorted by path. Hidden files are skipped.
pub fn read_fixture_dir(dir: &Path) -> Result<Vec<(String, Vec<u8>)>, FixtureFileError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FixtureFileError::Io { path, source }
    };
    let mut out = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(at) = pending.pop() {
        for entry in std::fs::read_dir(&at).map_err(io(&at))? {
            let entry = entry.map_err(io(&at))?;
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            check_fixture_path(&rel)?;
            out.push((rel, std::fs::read(&path).map_err(io(&path))?));
            if out.len() > MAX_FIXTURE_FILES {
                return Err(FixtureFileError::TooMany { count: out.len() });
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Writes `files` into a directory under `root` named by the hash of the
/// set (written once: a temporary directory renamed into place) and
/// returns it; `None` for an empty set.
pub(crate) fn materialize(
    root: &Path,
    files: &[(String, Vec<u8>)],
) -> Result<Option<PathBuf>, FixtureFileError> {
    if files.is_empty() {
        return Ok(None);
    }
    let mut hash = Sha256::new();
    for (path, body) in files {
        check_fixture_path(path)?;
        hash.update((path.len() as u64).to_le_bytes());
        hash.update(path.as_bytes());
        hash.update((body.len() as u64).to_le_bytes());
        hash.update(body);
    }
    let dir = root.join(hex::encode(hash.finalize()));
    if dir.is_dir() {
        return Ok(Some(dir));
    }
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| FixtureFileError::Io { path, source }
    };
    let tmp = root.join(format!(
        ".tmp-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
    for (path, body) in files {
        let file = tmp.join(path);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(io(parent))?;
        }
        std::fs::write(&file, body).map_err(io(&file))?;
    }
    if let Err(e) = std::fs::rename(&tmp, &dir) {
        let _ = std::fs::remove_dir_all(&tmp);
        // Another thread or host wrote the same set first.
        if !dir.is_dir() {
            return Err(FixtureFileError::Io {
                path: dir,
                source: e,
            });
        }
    }
    Ok(Some(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_pass() {
        for ok in ["a.input.json", "sub/b.expected.json"] {
            assert!(check_fixture_path(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "./a",
            "a\\b",
            "a\0",
        ] {
            assert!(check_fixture_path(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_set_read_from_a_directory_is_written_back_the_same() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("src/sub")).expect("mkdir");
        std::fs::write(dir.path().join("src/a.input.json"), b"{}").expect("write");
        std::fs::write(dir.path().join("src/sub/b.input.json"), b"[1]").expect("write");
        std::fs::write(dir.path().join("src/.hidden"), b"x").expect("write");
        let files = read_fixture_dir(&dir.path().join("src")).expect("read");
        assert_eq!(
            files,
            vec![
                ("a.input.json".to_string(), b"{}".to_vec()),
                ("sub/b.input.json".to_string(), b"[1]".to_vec())
            ]
        );
        let root = dir.path().join("cache");
        let written = materialize(&root, &files).expect("write").expect("a dir");
        assert_eq!(read_fixture_dir(&written).expect("read back"), files);
        assert_eq!(materialize(&root, &files).expect("again"), Some(written));
        assert_eq!(materialize(&root, &[]).expect("empty"), None);
    }
}
