//! Keeps the layer order of the crate doc (`lib.rs`) true: every top-level
//! module may name (`crate::<module>`) only modules of a lower layer, or the
//! same-layer modules listed in `SIDEWAYS`. A new top-level module fails
//! here until it is given a layer.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Bottom to top, as `lib.rs` lists them.
const LAYERS: &[&[&str]] = &[
    &["store", "plugins"],
    &["schemas"],
    &["config"],
    &["http", "ratelimit"],
    &["process", "deliver", "distribution"],
    &["context"],
    &[
        "ingest",
        "replay",
        "exceptions",
        "refsync",
        "reconcile",
        "commands",
    ],
    &["runtime"],
];

/// Same-layer uses the doc allows: (user, used).
const SIDEWAYS: &[(&str, &str)] = &[("commands", "exceptions")];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) {
    if path.is_file() {
        out.push(path.to_path_buf());
        return;
    }
    for entry in std::fs::read_dir(path).expect("read source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() || path.extension().is_some_and(|e| e == "rs") {
            rust_files(&path, out);
        }
    }
}

/// The top-level modules `crate::...` paths in `module`'s code name
/// (comments are not code).
fn used_by(path: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    rust_files(path, &mut files);
    let mut used = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read source file");
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let name: String = line[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                used.insert(name);
            }
        }
    }
    used
}

#[test]
fn every_module_uses_only_lower_layers() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut wrong = Vec::new();
    for entry in std::fs::read_dir(&src).expect("read src") {
        let path = entry.expect("dir entry").path();
        let name = path.file_stem().unwrap_or_default().to_string_lossy();
        if matches!(name.as_ref(), "lib" | "bin" | "layers_tests") {
            continue;
        }
        let Some(mine) = layer_of(&name) else {
            wrong.push(format!(
                "{name}: not in LAYERS; give it a layer (and say so in lib.rs)"
            ));
            continue;
        };
        for used in used_by(&path) {
            let Some(theirs) = layer_of(&used) else {
                continue;
            };
            let sideways = SIDEWAYS.contains(&(name.as_ref(), used.as_str()));
            if used != name && (theirs > mine || (theirs == mine && !sideways)) {
                wrong.push(format!(
                    "{name} (layer {mine}) uses {used} (layer {theirs})"
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "layer order broken:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_layer_check_sees_uses() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let used = used_by(&src.join("runtime"));
    for module in ["context", "ingest", "process", "deliver", "store"] {
        assert!(
            used.contains(module),
            "runtime should use {module}: {used:?}"
        );
    }
}
