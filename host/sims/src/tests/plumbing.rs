use super::{get, post};
use crate::PortalSim;
use serde_json::json;

#[tokio::test]
async fn a_reused_key_with_another_body_is_refused() {
    let portal = PortalSim::start().await.unwrap();
    let url = portal.url("/updates");
    let body = |code: &str| {
        serde_json::to_vec(
            &json!({"orderNumber": "SO-1", "status": code, "statusCode": code,
            "updatedAt": "2026-05-28T14:03:00Z"}),
        )
        .unwrap()
    };
    assert_eq!(post(&url, Some("k"), body("IN_TRANSIT")).await.status, 200);
    let a = post(&url, Some("k"), body("DELIVERED")).await;
    assert_eq!(
        (a.status, a.error()),
        (422, "idempotency_key_reused".into())
    );
    // Without a key nothing is deduplicated.
    assert_eq!(post(&url, None, body("IN_TRANSIT")).await.status, 200);
    assert_eq!(post(&url, None, body("IN_TRANSIT")).await.status, 200);
    assert_eq!(portal.updates().len(), 3);
    let log = portal.sim.exchanges();
    assert_eq!(log.len(), 4);
    assert_eq!((log[1].status, log[1].repeat), (422, false));
    assert_eq!(log[0].idempotency_key.as_deref(), Some("k"));
    assert_eq!(
        (log[0].method.as_str(), portal.sim.name),
        ("POST", "customer portal")
    );
    assert_eq!(portal.sim.requests("/updates"), 4);
}

#[tokio::test]
async fn unknown_routes_and_bad_since_are_json_errors() {
    let portal = PortalSim::start().await.unwrap();
    let a = get(&portal.url("/nowhere")).await;
    assert_eq!((a.status, a.error()), (404, "no_route".into()));
    let erp = crate::ErpSim::start().await.unwrap();
    let a = get(&erp.url("/api/snapshots/orders?since=yesterday")).await;
    assert_eq!((a.status, a.error()), (400, "invalid_since".into()));
}
