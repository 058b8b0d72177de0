//! Reads the three configuration keys, recording bad values as problems
//! named `config/<key>`; whether a key is required depends on the invoice,
//! so that is decided by the coding itself.

use crate::accounts::{GL_ACCOUNTS_KEY, GlAccounts};
use crate::tax::{TAX_ACCOUNT_KEY, TAX_RATE_KEY, parse_rate};
use waybill_sdk::config;
use waybill_sdk::problems::{Problems, present};

/// The configuration as far as it could be read.
#[derive(Debug, Default)]
pub struct Settings {
    /// `gl_accounts`, when set and valid.
    pub accounts: Option<GlAccounts>,
    /// Whether `gl_accounts` was set at all (a bad value is already reported).
    pub accounts_set: bool,
    /// `tax_rate_bps`, when set and valid.
    pub tax_rate_bps: Option<u32>,
    /// Whether `tax_rate_bps` was set at all.
    pub tax_rate_set: bool,
    /// `tax_account`, when set.
    pub tax_account: Option<String>,
}

/// Reads every key; blank values count as unset.
pub fn read(p: &mut Problems) -> Settings {
    let mut s = Settings::default();
    if let Some(raw) = value(GL_ACCOUNTS_KEY) {
        s.accounts_set = true;
        match GlAccounts::parse(&raw) {
            Ok(table) => s.accounts = Some(table),
            Err(e) => bad(p, GL_ACCOUNTS_KEY, e),
        }
    }
    if let Some(raw) = value(TAX_RATE_KEY) {
        s.tax_rate_set = true;
        match parse_rate(&raw) {
            Ok(bps) => s.tax_rate_bps = Some(bps),
            Err(e) => bad(p, TAX_RATE_KEY, e),
        }
    }
    s.tax_account = value(TAX_ACCOUNT_KEY);
    s
}

/// Records that `key` is needed but unset.
pub fn missing(p: &mut Problems, key: &str, why: &str) {
    p.push(
        &format!("config/{key}"),
        "required",
        format!("config {key} is required: {why}"),
    );
}

fn value(key: &str) -> Option<String> {
    let raw = config::get(key);
    present(raw.as_deref()).map(|v| v.trim().to_string())
}

fn bad(p: &mut Problems, key: &str, why: String) {
    p.push(
        &format!("config/{key}"),
        "invalid-config",
        format!("{key}: {why}"),
    );
}
