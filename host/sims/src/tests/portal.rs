use super::{post, sample};
use crate::PortalSim;
use serde_json::json;

#[tokio::test]
async fn the_portal_shows_the_latest_update_by_time() {
    let portal = PortalSim::start().await.unwrap();
    let url = portal.url("/updates");
    let mut delivered = sample("portal.shipment-visibility.json");
    delivered["statusCode"] = json!("DELIVERED");
    delivered["status"] = json!("Delivered");
    delivered["updatedAt"] = json!("2026-05-29T09:52:00-05:00");
    let a = post(&url, Some("d"), serde_json::to_vec(&delivered).unwrap()).await;
    assert_eq!((a.status, a.json()["shown"].clone()), (200, json!(true)));
    let in_transit = serde_json::to_vec(&sample("portal.shipment-visibility.json")).unwrap();
    let a = post(&url, Some("t"), in_transit.clone()).await;
    assert_eq!((a.status, a.json()["shown"].clone()), (200, json!(false)));
    assert!(post(&url, Some("t"), in_transit).await.replayed());
    assert_eq!(
        portal.status("SO-2026-004512").as_deref(),
        Some("DELIVERED")
    );
    assert_eq!(portal.updates().len(), 2);
    assert_eq!(
        portal
            .latest("SO-2026-004512")
            .unwrap()
            .tracking_number
            .as_deref(),
        Some("0123456789")
    );
    assert_eq!(portal.status("SO-OTHER"), None);
}

#[tokio::test]
async fn incomplete_updates_are_refused() {
    let portal = PortalSim::start().await.unwrap();
    let mut u = sample("portal.shipment-visibility.json");
    u["updatedAt"] = json!("last tuesday");
    let a = post(
        &portal.url("/updates"),
        Some("x"),
        serde_json::to_vec(&u).unwrap(),
    )
    .await;
    assert_eq!(
        (a.status, a.json()["field"].clone()),
        (422, json!("/updatedAt"))
    );
    assert!(portal.updates().is_empty());
}
