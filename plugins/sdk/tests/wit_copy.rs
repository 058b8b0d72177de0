//! The SDK carries its own copy of the plugin contract (`plugins/sdk/wit/`)
//! so that it builds outside this repository (a partner's crate depends on
//! it from a registry or a git URL, without the repository's `wit/` beside
//! it). The copy must never drift from the canonical `wit/` the host binds:
//! this test compares the two directories file by file, byte for byte.
//! `wit/compat/` holds the frozen earlier contract versions that only the
//! host binds (to keep loading old plugins); the SDK builds against the
//! current one, so that directory is not copied.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every file under `dir`, by path relative to it, with its bytes.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let rel = path.strip_prefix(dir).unwrap().to_path_buf();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

#[test]
fn the_sdk_copy_of_the_wit_is_byte_for_byte_the_repository_wit() {
    let sdk = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut canonical = files(&sdk.join("../../wit"));
    canonical.retain(|path, _| !path.starts_with("compat"));
    let copy = files(&sdk.join("wit"));
    assert!(
        canonical
            .keys()
            .any(|p| p.extension().is_some_and(|e| e == "wit")),
        "no .wit file found in the repository's wit/"
    );
    assert_eq!(
        canonical.keys().collect::<Vec<_>>(),
        copy.keys().collect::<Vec<_>>(),
        "plugins/sdk/wit/ must hold exactly the files of wit/ (copy them over)"
    );
    for (path, bytes) in &canonical {
        assert!(
            copy[path] == *bytes,
            "plugins/sdk/wit/{} differs from wit/{}: copy wit/ over plugins/sdk/wit/",
            path.display(),
            path.display()
        );
    }
}
