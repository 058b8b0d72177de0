//! Whether two systems' amounts for one id differ enough to matter is the
//! charge-tolerance validator's call, not the engine's: the two amounts are
//! put into a minimal `charge-package@1.0` (the compared system's amount as
//! the one charge line, the reference system's as the reference line, both
//! coded `OTHER`/`TOTAL` so the validator pairs them) and the validator's
//! violations become the finding.

use std::sync::Arc;

use serde_json::json;
use waybill_sdk::canonical::CHARGE_PACKAGE;
use waybill_sdk::{Document, Role, Violation};

use super::error::{ReconcileError, ValidatorFault};
use crate::config::PluginRef;
use crate::plugins::{PluginConfig, PluginFailure, PluginVersion, Registry};

/// Judges a charge package; the production implementation is the plugin.
pub(crate) trait AmountCheck: Send + Sync {
    /// The violations the validator finds in `package`, a
    /// `charge-package@1.0` document; empty when the difference is fine.
    fn check(&self, package: &serde_json::Value) -> Result<Vec<Violation>, ReconcileError>;
}

/// One side of an amount comparison.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Side<'a> {
    pub system: &'a str,
    pub amount_minor: i64,
    /// ISO 4217, upper case.
    pub currency: &'a str,
}

/// The package comparing `compared` against `reference` for `id` of
/// `entity`. The id stands in for the shipment id: the package is only the
/// validator's input, never stored or delivered.
pub(crate) fn charge_package(
    entity: &str,
    id: &str,
    reference: Side<'_>,
    compared: Side<'_>,
) -> serde_json::Value {
    let line = |side: Side<'_>| {
        json!({
            "charge_id": format!("{id}:{}:total", side.system),
            "code": "OTHER",
            "source_code": "TOTAL",
            "description": format!("{entity} total in {}", side.system),
            "amount_minor": side.amount_minor,
            "currency": side.currency,
            "source": "billed",
        })
    };
    json!({
        "package_id": format!("{id}:{}:{}", compared.system, reference.system),
        "source": {"system": compared.system, "id": id},
        "shipment_id": id,
        "currency": compared.currency,
        "charges": [line(compared)],
        "total_minor": compared.amount_minor,
        "reference_charges": [line(reference)],
    })
}

/// The amount validator plugin with its configuration.
pub(crate) struct PluginAmountCheck {
    version: Arc<PluginVersion>,
    config: PluginConfig,
}

impl PluginAmountCheck {
    /// The active version of `validator`, which must validate charge packages.
    pub fn resolve(validator: &PluginRef, registry: &Registry) -> Result<Self, ReconcileError> {
        let purpose = "amount validator".to_owned();
        let version =
            registry
                .get(&validator.plugin)
                .ok_or_else(|| ReconcileError::PluginMissing {
                    plugin: validator.plugin.clone(),
                    purpose: purpose.clone(),
                })?;
        let unfit = |why: &str| ReconcileError::PluginUnfit {
            plugin: version.label().to_owned(),
            purpose: purpose.clone(),
            why: why.to_owned(),
        };
        if version.info.role != Role::Validator {
            return Err(unfit("it is not a validator"));
        }
        if !version
            .info
            .consumes
            .iter()
            .any(|c| c.starts_with("charge-package@1."))
        {
            return Err(unfit("it does not validate charge-package@1 documents"));
        }
        Ok(Self {
            config: validator.config.clone(),
            version,
        })
    }
}

impl AmountCheck for PluginAmountCheck {
    fn check(&self, package: &serde_json::Value) -> Result<Vec<Violation>, ReconcileError> {
        let doc = Document {
            schema_id: CHARGE_PACKAGE.into(),
            body: package.to_string(),
        };
        let fail = |source: ValidatorFault| ReconcileError::Validator {
            plugin: self.version.label().to_owned(),
            source,
        };
        self.version
            .call_validate(&doc, &self.config)
            .result
            .map_err(|f| {
                fail(match f {
                    PluginFailure::Refused(e) => e.into(),
                    PluginFailure::Fault(e) => e.into(),
                })
            })
    }
}
