//! The admin API under `/admin/v1`, behind the configured bearer token:
//! checks the token, then dispatches each path to the feature that owns it
//! (exceptions, state, reconcile, sync, dead letters); serves itself what
//! belongs to no feature folder: messages (`messages_admin.rs`: search,
//! timeline by correlation id, the documents at each step), the overview
//! (`overview_admin.rs`) and plugins (`plugins_admin.rs`: versions, push,
//! activate, roll back), whose runtime and distribution sit in layers below
//! the HTTP surface. The console (`console/`) authenticates its session
//! cookie instead of the token and then calls [`dispatch`].

use crate::context::App;
use crate::http::auth::check_bearer;
use crate::http::{Problem, Resp, header};
use hyper::Request;
use hyper::body::Incoming;
use std::sync::Arc;

/// Routes `/admin/v1/<rest>`.
pub async fn handle(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Resp {
    match route(app, req, rest).await {
        Ok(r) => r,
        Err(p) => p.into_response(),
    }
}

async fn route(app: Arc<App>, req: Request<Incoming>, rest: &[&str]) -> Result<Resp, Problem> {
    let token = admin_token(&app)?;
    check_bearer(header(&req, "authorization"), token).map_err(Problem::unauthorized)?;
    dispatch(app, req, rest).await
}

/// The configured admin token, or 403 when the admin API is disabled.
pub(super) fn admin_token(app: &App) -> Result<&str, Problem> {
    match &app.config.server.admin_token {
        Some(token) => Ok(token.expose()),
        None => Err(
            Problem::new(403, "admin-disabled", "The admin API is disabled")
                .detail("set server.admin_token in the configuration"),
        ),
    }
}

/// Sends an authenticated request for `/admin/v1/<rest>` to the route that
/// owns it: the bearer token (here) or the console's session (there) was
/// checked by the caller.
pub(super) async fn dispatch(
    app: Arc<App>,
    req: Request<Incoming>,
    rest: &[&str],
) -> Result<Resp, Problem> {
    match rest {
        ["exceptions", ..] => crate::exceptions::admin::route(app, req, rest).await,
        ["state", ..] => crate::commands::admin::route(app, req, rest).await,
        ["reconcile", ..] => crate::reconcile::admin::route(app, req, rest).await,
        ["sync", ..] => crate::refsync::admin::route(app, req, rest).await,
        ["dead-letters", ..] => crate::replay::admin::route(app, req, rest).await,
        ["messages", ..] => super::messages_admin::route(app, req, rest).await,
        ["overview"] => super::overview_admin::route(app, req, rest).await,
        ["plugins", ..] => super::plugins_admin::route(app, req, rest).await,
        _ => Err(Problem::not_found(format!(
            "admin endpoint /admin/v1/{}",
            rest.join("/")
        ))),
    }
}
