//! Fuzzes the configuration loader (`waybill::config::parse`): TOML text in,
//! a validated `Config` or a `ConfigError` out, never a panic.
//!
//! It also checks the promise the loader makes to operators: every error
//! names the file, and a position it gives lies inside the text; a TOML
//! syntax error always comes with its line.

#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // `config::load` refuses non-UTF-8 files before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = Path::new("fuzz/waybill.toml");
    let err = match waybill::config::parse(text, file) {
        Ok(config) => {
            let _ = format!("{config:?}");
            return;
        }
        Err(err) => err,
    };
    let shown = err.to_string();
    assert_eq!(err.file, file);
    assert!(shown.starts_with("fuzz/waybill.toml"), "{shown}");
    assert!(!err.message.is_empty(), "{shown}: empty message");
    let lines = text.split('\n').count();
    if let Some(line) = err.line {
        assert!(
            (1..=lines).contains(&line),
            "{shown}: line {line} of {lines}"
        );
        let column = err.column.expect("a line comes with a column");
        let width = text
            .split('\n')
            .nth(line - 1)
            .map_or(0, |l| l.chars().count());
        assert!(
            (1..=width + 1).contains(&column),
            "{shown}: column {column} of {width}"
        );
    }
    if toml::from_str::<toml::Table>(text).is_err() {
        assert!(err.line.is_some(), "{shown}: a syntax error without a line");
    }
});
