//! The console's edges over plain HTTP, without a browser: signing in
//! (wrong token, token in the URL, no same-origin proof), the session
//! cookie's attributes, every console request refused without a valid
//! session (a redirect for pages, a 401 problem for the API), forged and
//! ended sessions, state changes refused from another origin, the files'
//! types, policy and caching; and the admin reads the console added
//! (message search, a timeline's documents, the overview).

mod common;

use bytes::Bytes;
use common::host::{ADMIN_TOKEN, QUICK_TARGET, TestHost, config_head, probe_pipeline};
use waybill_sims::sink::{Behaviour, Sink};

/// A host on the probe pipeline, with only the probe plugin's first
/// version loaded (so there is nothing to roll back to).
async fn start(dir: &std::path::Path, sink: &Sink) -> TestHost {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("plugins dir");
    std::fs::copy(
        common::test_plugin("swap-probe"),
        plugins.join("swap-probe.wasm"),
    )
    .expect("probe plugin");
    let config = format!(
        "{}{}",
        config_head(dir, &plugins),
        probe_pipeline(&sink.url("/in"), QUICK_TARGET)
    );
    TestHost::start(dir, &config).await
}

/// `Origin` of the admin listener, as a browser on a console page sends it.
fn origin(host: &TestHost) -> String {
    host.admin_base.clone()
}

/// Signs in and returns the `Cookie` header value.
async fn sign_in(host: &TestHost) -> String {
    let origin = origin(host);
    let answer = host
        .admin_request(
            "POST",
            "/console/login",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", &origin),
            ],
            format!("token={ADMIN_TOKEN}"),
        )
        .await;
    assert_eq!(answer.status, 303, "{}", answer.text);
    assert_eq!(answer.header("location"), Some("/console/"));
    let cookie = answer.header("set-cookie").expect("a session cookie");
    cookie.split(';').next().expect("name=value").to_string()
}

async fn get(host: &TestHost, path: &str, cookie: Option<&str>) -> common::host::Answer {
    let headers: Vec<(&str, &str)> = cookie.map(|c| vec![("cookie", c)]).unwrap_or_default();
    host.admin_request("GET", path, &headers, Bytes::new())
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_trades_the_token_for_a_strict_http_only_session_cookie() {
    let sink = Sink::start(Behaviour::Ok);
    let dir = tempfile::tempdir().expect("tempdir");
    let host = start(dir.path(), &sink).await;
    let origin = origin(&host);
    let form = [
        ("content-type", "application/x-www-form-urlencoded"),
        ("origin", origin.as_str()),
    ];

    let login = get(&host, "/console/login", None).await;
    assert_eq!(login.status, 200);
    assert_eq!(
        login.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert!(
        login
            .text
            .contains(r#"<form method="post" action="/console/login""#)
    );

    let wrong = host
        .admin_request("POST", "/console/login", &form, "token=not-it")
        .await;
    assert_eq!(wrong.status, 401);
    assert!(
        wrong.header("set-cookie").is_none(),
        "no session for a wrong token"
    );
    assert!(wrong.text.contains("That token is not the admin token."));
    let empty = host
        .admin_request("POST", "/console/login", &form, "token=")
        .await;
    assert_eq!(empty.status, 400);
    assert!(empty.text.contains("Enter the admin token."));

    // The token in the URL is refused, even with the right one.
    let in_url = host
        .admin_request(
            "POST",
            &format!("/console/login?token={ADMIN_TOKEN}"),
            &form,
            format!("token={ADMIN_TOKEN}"),
        )
        .await;
    assert_eq!(in_url.status, 400, "{}", in_url.text);
    assert_eq!(in_url.json["field"], "token");
    assert!(in_url.header("set-cookie").is_none());

    // Without proof that the form is the console's own, no session.
    let no_origin = host
        .admin_request(
            "POST",
            "/console/login",
            &[("content-type", "application/x-www-form-urlencoded")],
            format!("token={ADMIN_TOKEN}"),
        )
        .await;
    assert_eq!(no_origin.status, 403, "{}", no_origin.text);
    assert_eq!(
        no_origin.json["type"],
        "https://waybill.dev/problems/cross-origin-refused"
    );
    let cross = host
        .admin_request(
            "POST",
            "/console/login",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("origin", "http://evil.example"),
            ],
            format!("token={ADMIN_TOKEN}"),
        )
        .await;
    assert_eq!(cross.status, 403);
    assert!(
        cross.json["detail"]
            .as_str()
            .unwrap_or("")
            .contains("evil.example")
    );

    let answer = host
        .admin_request(
            "POST",
            "/console/login",
            &form,
            format!("token={ADMIN_TOKEN}"),
        )
        .await;
    assert_eq!(answer.status, 303);
    let set = answer.header("set-cookie").expect("cookie").to_string();
    let parts: Vec<&str> = set.split("; ").collect();
    let (name, id) = parts[0].split_once('=').expect("name=value");
    assert_eq!(name, "waybill_console");
    assert_eq!(id.len(), 64, "a 256-bit random id: {set}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert!(!set.contains(ADMIN_TOKEN), "the token is not in the cookie");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=28800",
    ] {
        assert!(parts.contains(&attribute), "{attribute} in {set}");
    }
    assert!(
        !parts.contains(&"Secure"),
        "plain HTTP: no Secure flag ({set})"
    );

    // Signed in, the sign-in page sends the browser on.
    let cookie = parts[0];
    let again = get(&host, "/console/login", Some(cookie)).await;
    assert_eq!(again.status, 303);
    assert_eq!(again.header("location"), Some("/console/"));
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_console_request_needs_a_valid_session() {
    let sink = Sink::start(Behaviour::Ok);
    let dir = tempfile::tempdir().expect("tempdir");
    let host = start(dir.path(), &sink).await;
    let forged = format!("waybill_console={}", "ab".repeat(32));
    let bearer = format!("Bearer {ADMIN_TOKEN}");
    for cookie in [
        None,
        Some(forged.as_str()),
        Some("waybill_console=short"),
        Some("other=1"),
    ] {
        for page in [
            "/console",
            "/console/",
            "/console/messages",
            "/console/plugins",
        ] {
            let answer = get(&host, page, cookie).await;
            assert_eq!(answer.status, 303, "{page} with {cookie:?}");
            assert_eq!(answer.header("location"), Some("/console/login"));
        }
        let api = get(&host, "/console/api/overview", cookie).await;
        assert_eq!(api.status, 401, "{cookie:?}: {}", api.text);
        assert_eq!(api.header("content-type"), Some("application/problem+json"));
        assert_eq!(
            api.json["type"],
            "https://waybill.dev/problems/unauthorized"
        );
        assert_eq!(api.json["field"], "cookie");
    }
    // The token authenticates neither in the URL nor as a bearer header:
    // the console takes only its session.
    let in_url = get(
        &host,
        &format!("/console/api/overview?token={ADMIN_TOKEN}"),
        None,
    )
    .await;
    assert_eq!(in_url.status, 401);
    let page_url = get(&host, &format!("/console/?token={ADMIN_TOKEN}"), None).await;
    assert_eq!(page_url.status, 303);
    let as_bearer = host
        .admin_request(
            "GET",
            "/console/api/overview",
            &[("authorization", &bearer)],
            Bytes::new(),
        )
        .await;
    assert_eq!(as_bearer.status, 401);

    // A real session reads; after signing out the same cookie does not.
    let cookie = sign_in(&host).await;
    let page = get(&host, "/console/messages", Some(&cookie)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains(r#"<script type="module" src="/console/assets/app.js">"#)
    );
    let api = get(&host, "/console/api/overview", Some(&cookie)).await;
    assert_eq!(api.status, 200, "{}", api.text);
    assert_eq!(api.header("cache-control"), Some("no-store"));
    assert_eq!(api.json["targets"][0]["name"], "sink");

    let origin = origin(&host);
    let out = host
        .admin_request(
            "POST",
            "/console/logout",
            &[("cookie", &cookie), ("origin", &origin)],
            Bytes::new(),
        )
        .await;
    assert_eq!(out.status, 303);
    assert_eq!(out.header("location"), Some("/console/login"));
    assert!(
        out.header("set-cookie")
            .is_some_and(|c| c.contains("Max-Age=0")),
        "the browser is told to forget the cookie"
    );
    let after = get(&host, "/console/api/overview", Some(&cookie)).await;
    assert_eq!(after.status, 401, "an ended session is refused");

    // The partner listener has no console.
    let partner = host
        .request("GET", "/console/login", &[], Bytes::new())
        .await;
    assert_eq!(partner.status, 404);
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_changes_must_come_from_the_consoles_own_pages() {
    let sink = Sink::start(Behaviour::Ok);
    let dir = tempfile::tempdir().expect("tempdir");
    let host = start(dir.path(), &sink).await;
    let cookie = sign_in(&host).await;
    let origin = origin(&host);
    let post = |headers: Vec<(&'static str, String)>| {
        let cookie = cookie.clone();
        let host = &host;
        async move {
            let mut all: Vec<(&str, &str)> =
                vec![("cookie", &cookie), ("content-type", "application/json")];
            all.extend(headers.iter().map(|(k, v)| (*k, v.as_str())));
            host.admin_request(
                "POST",
                "/console/api/plugins/swap-probe/rollback",
                &all,
                "{}",
            )
            .await
        }
    };
    for (headers, why) in [
        (vec![], "neither Origin nor Sec-Fetch-Site"),
        (
            vec![("origin", "http://evil.example".to_string())],
            "another origin",
        ),
        (
            vec![("sec-fetch-site", "cross-site".to_string())],
            "a cross-site fetch",
        ),
        (
            vec![
                ("sec-fetch-site", "same-site".to_string()),
                ("origin", origin.clone()),
            ],
            "a sibling site (Sec-Fetch-Site wins)",
        ),
    ] {
        let answer = post(headers).await;
        assert_eq!(answer.status, 403, "{why}: {}", answer.text);
        assert_eq!(
            answer.json["type"],
            "https://waybill.dev/problems/cross-origin-refused"
        );
    }
    // Same origin: the request reaches the admin route, which answers as
    // it would the token (nothing to roll back to).
    for headers in [
        vec![("origin", origin.clone())],
        vec![("sec-fetch-site", "same-origin".to_string())],
    ] {
        let answer = post(headers).await;
        assert_eq!(answer.status, 409, "{}", answer.text);
        assert_eq!(
            answer.json["type"],
            "https://waybill.dev/problems/rollback-refused"
        );
    }
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_files_are_embedded_typed_guarded_and_revalidated() {
    let sink = Sink::start(Behaviour::Ok);
    let dir = tempfile::tempdir().expect("tempdir");
    let host = start(dir.path(), &sink).await;
    for (file, kind) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("console.css", "text/css; charset=utf-8"),
        ("favicon.svg", "image/svg+xml"),
    ] {
        let answer = get(&host, &format!("/console/assets/{file}"), None).await;
        assert_eq!(answer.status, 200, "{file}");
        assert_eq!(answer.header("content-type"), Some(kind));
        assert_eq!(answer.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(answer.header("cache-control"), Some("no-cache"));
        let csp = answer.header("content-security-policy").expect("CSP");
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        let etag = answer.header("etag").expect("etag").to_string();
        let again = host
            .admin_request(
                "GET",
                &format!("/console/assets/{file}"),
                &[("if-none-match", &etag)],
                Bytes::new(),
            )
            .await;
        assert_eq!(again.status, 304, "{file} unchanged");
        assert!(again.text.is_empty());
    }
    let login = get(&host, "/console/login", None).await;
    assert_eq!(login.header("x-frame-options"), Some("DENY"));
    assert_eq!(login.header("cache-control"), Some("no-store"));
    let unknown = get(&host, "/console/assets/secrets.txt", None).await;
    assert_eq!(unknown.status, 404);
    let no_page = get(&host, "/console/nowhere", None).await;
    assert_eq!(no_page.status, 404);
    let wrong_method = host
        .admin_request("GET", "/console/logout", &[], Bytes::new())
        .await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("POST"));
    host.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_finds_messages_shows_their_documents_and_the_overview() {
    let sink = Sink::start(Behaviour::Ok);
    let dir = tempfile::tempdir().expect("tempdir");
    let host = start(dir.path(), &sink).await;
    let body = r#"{"key": "ORD-77", "n": 1}"#;
    let ack = host
        .post(
            "test",
            &[
                ("content-type", "application/json"),
                ("x-correlation-id", "find-me-1"),
                ("idempotency-key", "src-evt-77"),
            ],
            body,
        )
        .await;
    assert_eq!(ack.status, 202, "{}", ack.text);
    host.wait_timeline("find-me-1", "delivered", |t| {
        t["deliveries"][0]["state"] == "delivered"
    })
    .await;

    let t = host.admin_get("messages/find-me-1").await;
    let key = t.json["deliveries"][0]["business_key"]
        .as_str()
        .expect("a business key")
        .to_string();
    for (q, matched) in [
        (key.as_str(), "business_key"),
        ("src-evt-77", "idempotency_key"),
        ("find-me-1", "correlation_id"),
    ] {
        let found = host.admin_get(&format!("messages?q={}", percent(q))).await;
        assert_eq!(found.status, 200, "{}", found.text);
        assert_eq!(
            found.json["messages"][0]["correlation_id"], "find-me-1",
            "{q}"
        );
        assert_eq!(found.json["messages"][0]["matched"], matched, "{q}");
        assert_eq!(found.json["messages"][0]["state"], "processed");
    }
    let none = host.admin_get("messages?q=nothing-like-it").await;
    assert_eq!(none.json["messages"], serde_json::json!([]));
    for (query, field) in [
        ("", "q"),
        ("q=%20", "q"),
        ("q=x&limit=0", "limit"),
        ("q=x&order=asc", "order"),
    ] {
        let bad = host.admin_get(&format!("messages?{query}")).await;
        assert_eq!(bad.status, 400, "{query}: {}", bad.text);
        assert_eq!(bad.json["field"], field, "{query}");
    }

    let docs = host.admin_get("messages/find-me-1/documents").await;
    assert_eq!(docs.status, 200, "{}", docs.text);
    assert_eq!(docs.json["received"][0]["body"], body);
    assert_eq!(docs.json["received"][0]["encoding"], "utf-8");
    let sent = docs.json["deliveries"][0]["body"]
        .as_str()
        .expect("sent body");
    let delivered = sink.delivered();
    assert_eq!(
        sent,
        delivered[0].body_text(),
        "the document as the target got it"
    );
    assert_eq!(docs.json["deliveries"][0]["target"], "sink");
    let missing = host.admin_get("messages/no-such-cid/documents").await;
    assert_eq!(missing.status, 404);

    let overview = host.admin_get("overview").await;
    assert_eq!(overview.status, 200, "{}", overview.text);
    let target = &overview.json["targets"][0];
    assert_eq!(target["name"], "sink");
    assert_eq!(target["deliveries"]["delivered"], 1);
    assert_eq!(target["backlog"], 0);
    assert_eq!(target["breaker"], "closed");
    assert_eq!(overview.json["messages"]["processed"], 1);
    assert_eq!(overview.json["routes"][0]["name"], "probe");
    assert_eq!(overview.json["routes"][0]["targets"][0]["target"], "sink");
    assert_eq!(overview.json["kpis"], serde_json::json!({}));
    let probe = overview.json["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .find(|p| p["name"] == "swap-probe")
        .expect("swap-probe");
    assert_eq!(probe["calls"], 2, "one inbound and one outbound call");
    let (total, p99) = (
        probe["call_micros"].as_u64().unwrap_or(0),
        probe["active_p99_call_micros"].as_u64().unwrap_or(0),
    );
    assert!(total > 0 && p99 > 0, "call times are measured: {probe}");
    let exceptions = host.admin_get("exceptions?correlation_id=find-me-1").await;
    assert_eq!(exceptions.json["exceptions"], serde_json::json!([]));
    host.stop().await;
}

fn percent(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}
