//! The accept loop of one listener (partner or admin), hardened so that one
//! client cannot hold the host: a cap on open connections (over it, new
//! connections wait in the kernel's accept queue: the loop stops accepting
//! until one closes, and the other listener keeps its own cap), a header-read
//! timeout (hyper's timer, also bounding the TLS handshake), an idle timeout
//! between kept-alive requests, a pause after accept errors so EMFILE does not
//! spin a core, and a graceful drain on shutdown.

use super::handle;
use crate::context::App;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;
use tokio_rustls::TlsAcceptor;

/// Which endpoints a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// Partner ingest and commands (`/v1/...`), health.
    Partner,
    /// The admin API, `/metrics`, health.
    Admin,
    /// Both, on one port (`admin_listen` = `listen`).
    Both,
}

impl Surface {
    /// Whether `/v1/...` is served.
    pub fn partner(self) -> bool {
        matches!(self, Self::Partner | Self::Both)
    }

    /// Whether `/admin/v1/...` and `/metrics` are served.
    pub fn admin(self) -> bool {
        matches!(self, Self::Admin | Self::Both)
    }
}

/// A bound listener and how it serves.
pub struct Listener {
    /// The socket.
    pub tcp: TcpListener,
    /// TLS, when configured.
    pub tls: Option<TlsAcceptor>,
    /// What it serves.
    pub surface: Surface,
}

/// The pause after a failed `accept`: 100 ms, doubling to 1 s, back to
/// 100 ms after a success.
#[derive(Debug, Clone)]
pub struct AcceptBackoff {
    next: Duration,
}

const FIRST_PAUSE: Duration = Duration::from_millis(100);
const LONGEST_PAUSE: Duration = Duration::from_secs(1);

impl Default for AcceptBackoff {
    fn default() -> Self {
        Self { next: FIRST_PAUSE }
    }
}

impl AcceptBackoff {
    /// The pause to take now; the next one is twice as long, up to 1 s.
    pub fn pause(&mut self) -> Duration {
        let now = self.next;
        self.next = (self.next * 2).min(LONGEST_PAUSE);
        now
    }

    /// After a successful accept.
    pub fn reset(&mut self) {
        self.next = FIRST_PAUSE;
    }
}

/// Serves `listener` until `shutdown` turns true, then stops accepting and
/// waits up to `grace` for the connections still open.
pub async fn serve(
    listener: Listener,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
    grace: Duration,
) {
    let max = app.config.server.limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let mut backoff = AcceptBackoff::default();
    loop {
        // Over the cap, stop accepting: new connections wait in the accept
        // queue while the admitted ones are served.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let accepted = tokio::select! {
            accepted = listener.tcp.accept() => accepted,
            _ = shutdown.wait_for(|stop| *stop) => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => {
                backoff.reset();
                stream
            }
            Err(e) => {
                // EMFILE, ENFILE, ENOBUFS...: the error repeats at once, so
                // pause instead of spinning a core.
                let pause = backoff.pause();
                tracing::warn!(error = %e, pause_ms = pause.as_millis() as u64, "accept failed; pausing");
                drop(permit);
                tokio::select! {
                    _ = tokio::time::sleep(pause) => continue,
                    _ = shutdown.wait_for(|stop| *stop) => break,
                }
            }
        };
        tokio::spawn(connection(
            stream,
            listener.tls.clone(),
            listener.surface,
            app.clone(),
            shutdown.clone(),
            permit,
        ));
    }
    drop(listener);
    // Every connection holds a slot until it ends: all slots back means all
    // connections are done.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    if tokio::time::timeout(grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        tracing::warn!("shutdown grace over; closing remaining connections");
    }
}

/// One connection: the TLS handshake (bounded like a request head), then
/// HTTP/1.1 until the client leaves, a limit cuts it, or the host stops.
async fn connection(
    stream: TcpStream,
    tls: Option<TlsAcceptor>,
    surface: Surface,
    app: Arc<App>,
    shutdown: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    let _ = stream.set_nodelay(true);
    let head_budget = Duration::from_millis(app.config.server.limits.header_read_timeout_ms);
    match tls {
        None => http(TokioIo::new(stream), surface, app, shutdown).await,
        Some(acceptor) => match tokio::time::timeout(head_budget, acceptor.accept(stream)).await {
            Ok(Ok(stream)) => http(TokioIo::new(stream), surface, app, shutdown).await,
            Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!("TLS handshake timed out"),
        },
    }
}

async fn http<I>(io: I, surface: Surface, app: Arc<App>, mut shutdown: watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let limits = app.config.server.limits.clone();
    let activity = Arc::new(Activity::new());
    let service = {
        let activity = activity.clone();
        service_fn(move |req| {
            let app = app.clone();
            let request = activity.begin();
            async move {
                let mut resp = handle(app, req, surface).await;
                if resp.status() == hyper::StatusCode::REQUEST_TIMEOUT {
                    // The unread rest of the body cannot be skipped.
                    resp.headers_mut().insert(
                        hyper::header::CONNECTION,
                        hyper::header::HeaderValue::from_static("close"),
                    );
                }
                drop(request);
                Ok::<_, Infallible>(resp)
            }
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_millis(limits.header_read_timeout_ms));
    let conn = builder.serve_connection(io, service);
    tokio::pin!(conn);
    let idle = Duration::from_millis(limits.idle_timeout_ms);
    let mut closing = false;
    loop {
        tokio::select! {
            ended = conn.as_mut() => {
                if let Err(e) = ended {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            _ = shutdown.wait_for(|stop| *stop), if !closing => {
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
            _ = activity.idle_for(idle), if !closing => {
                tracing::debug!("closing a connection idle between requests");
                conn.as_mut().graceful_shutdown();
                closing = true;
            }
        }
    }
}

/// What a connection is doing, for the idle timeout: requests in flight,
/// requests answered, and when the last one was.
struct Activity {
    in_flight: AtomicUsize,
    served: AtomicU64,
    last_done: Mutex<Instant>,
}

/// One request in flight; dropping it marks the request done.
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        *self
            .0
            .last_done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Instant::now();
        self.0.served.fetch_add(1, Ordering::Relaxed);
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Activity {
    fn new() -> Self {
        Self {
            in_flight: AtomicUsize::new(0),
            served: AtomicU64::new(0),
            last_done: Mutex::new(Instant::now()),
        }
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// Returns once the connection has answered at least one request and
    /// then had none in flight for `idle` (before the first request the
    /// header-read timeout governs).
    async fn idle_for(&self, idle: Duration) {
        loop {
            let since = *self
                .last_done
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let waiting = self.in_flight.load(Ordering::Relaxed) == 0
                && self.served.load(Ordering::Relaxed) > 0;
            let elapsed = since.elapsed();
            if waiting && elapsed >= idle {
                return;
            }
            let nap = if waiting { idle - elapsed } else { idle };
            tokio::time::sleep(nap).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_backoff_doubles_to_a_second_and_resets() {
        let mut b = AcceptBackoff::default();
        let pauses: Vec<u128> = (0..6).map(|_| b.pause().as_millis()).collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1000, 1000]);
        b.reset();
        assert_eq!(b.pause(), Duration::from_millis(100));
    }

    #[test]
    fn surfaces() {
        assert!(Surface::Partner.partner() && !Surface::Partner.admin());
        assert!(Surface::Admin.admin() && !Surface::Admin.partner());
        assert!(Surface::Both.admin() && Surface::Both.partner());
    }

    #[tokio::test]
    async fn idle_only_after_a_request_and_none_in_flight() {
        let a = Arc::new(Activity::new());
        let idle = Duration::from_millis(50);
        let wait = Duration::from_millis(300);
        // Before any request: not idle (the header timeout governs).
        assert!(tokio::time::timeout(wait, a.idle_for(idle)).await.is_err());
        let req = a.begin();
        // A request in flight: not idle, however long it takes.
        assert!(tokio::time::timeout(wait, a.idle_for(idle)).await.is_err());
        drop(req);
        assert!(
            tokio::time::timeout(Duration::from_secs(5), a.idle_for(idle))
                .await
                .is_ok()
        );
    }
}
