//! Reading the plugin's configuration (set per route or target by the host).
//!
//! In Wasm this calls the host import `config-get`; natively it reads values
//! set with [`with_config`], so tests and benchmarks can supply them.

use crate::PluginError;

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    static NATIVE: std::cell::RefCell<std::collections::BTreeMap<String, String>> =
        const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
}

/// The value of `key`, if the host configured one.
pub fn get(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        crate::guest::imports::config_get(key)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        NATIVE.with(|c| c.borrow().get(key).cloned())
    }
}

/// The value of `key` parsed as `T`, `default` when unset; a value that does
/// not parse is an `invalid-input` error naming `config/<key>`.
pub fn parse_or<T: std::str::FromStr>(key: &str, default: T) -> Result<T, PluginError>
where
    T::Err: std::fmt::Display,
{
    match get(key) {
        None => Ok(default),
        Some(raw) => raw.trim().parse().map_err(|e| {
            PluginError::invalid(
                format!("config/{key}"),
                "invalid-config",
                format!("{key}={raw:?}: {e}"),
            )
        }),
    }
}

/// Runs `f` with the given configuration visible to [`get`] (native only).
#[cfg(not(target_arch = "wasm32"))]
pub fn with_config<R>(pairs: &[(&str, &str)], f: impl FnOnce() -> R) -> R {
    let previous = NATIVE.with(|c| {
        let mut map = c.borrow_mut();
        let prev = map.clone();
        map.clear();
        for (k, v) in pairs {
            map.insert((*k).to_string(), (*v).to_string());
        }
        prev
    });
    let out = f();
    NATIVE.with(|c| *c.borrow_mut() = previous);
    out
}
