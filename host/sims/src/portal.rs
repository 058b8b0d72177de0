//! The customer portal, simulated: it accepts shipment visibility updates
//! and shows each order's latest status, by `updatedAt` (an older update
//! arriving late is kept in the list but does not replace what customers
//! see).

use super::http::{Router, Sim, lock};
use super::request::{Reply, Request, required, required_time};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use time::OffsetDateTime;

/// A visibility update, as the portal stored it.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Update {
    pub order_number: Option<String>,
    pub customer_id: Option<String>,
    pub status: Option<String>,
    pub status_code: Option<String>,
    pub last_location: Option<String>,
    pub estimated_delivery: Option<String>,
    pub updated_at: Option<String>,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
}

#[derive(Default)]
struct PortalState {
    all: Vec<Update>,
    /// orderNumber -> (updatedAt, update) shown to the customer.
    latest: BTreeMap<String, (OffsetDateTime, Update)>,
}

struct Portal(Mutex<PortalState>);

impl Router for Portal {
    fn route(&self, req: &Request) -> Reply {
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/updates") => accept(&mut lock(&self.0), req).unwrap_or_else(|r| r),
            _ => Reply::no_route(req),
        }
    }
}

fn accept(state: &mut PortalState, req: &Request) -> Result<Reply, Reply> {
    let u: Update = req.json()?;
    let order = required(&u.order_number, "/orderNumber")?.to_string();
    required(&u.status, "/status")?;
    required(&u.status_code, "/statusCode")?;
    let at = required_time(&u.updated_at, "/updatedAt")?;
    state.all.push(u.clone());
    let shown = match state.latest.get(&order) {
        Some((current, _)) if *current > at => false,
        _ => {
            state.latest.insert(order.clone(), (at, u));
            true
        }
    };
    Ok(Reply::json(
        200,
        &json!({"orderNumber": order, "accepted": true, "shown": shown}),
    ))
}

/// The running portal and its accessors.
pub struct PortalSim {
    pub sim: Sim,
    portal: Arc<Portal>,
}

impl PortalSim {
    pub async fn start() -> anyhow::Result<PortalSim> {
        let portal = Arc::new(Portal(Mutex::default()));
        let sim = Sim::start("customer portal", portal.clone()).await?;
        Ok(PortalSim { sim, portal })
    }

    pub fn url(&self, path: &str) -> String {
        self.sim.url(path)
    }

    fn state(&self) -> MutexGuard<'_, PortalState> {
        lock(&self.portal.0)
    }

    /// The `statusCode` customers see for an order.
    pub fn status(&self, order: &str) -> Option<String> {
        self.latest(order).and_then(|u| u.status_code)
    }

    /// The update customers see for an order.
    pub fn latest(&self, order: &str) -> Option<Update> {
        self.state().latest.get(order).map(|(_, u)| u.clone())
    }

    /// Every accepted update, in arrival order.
    pub fn updates(&self) -> Vec<Update> {
        self.state().all.clone()
    }
}
