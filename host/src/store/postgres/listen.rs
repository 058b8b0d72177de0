//! Wake-ups across hosts: a write that leaves work for others (a message
//! ingested, deliveries enqueued or released, a command answered, a plugin
//! decision) sends `NOTIFY` in its own
//! transaction, so the notification goes out only if it commits; every
//! store holds one dedicated connection that `LISTEN`s and turns what it
//! hears into [`WakeEvent`]s on a broadcast channel. The channel is named
//! after the schema the store works in (`waybill_wake_<schema>`): stores on
//! other schemas of the same database do not wake each other.
//!
//! A lost listening connection is opened again with backoff (logged); once
//! it listens again it wakes everything, since what was committed meanwhile
//! was not heard. Polling stays the fallback throughout.

use super::super::error::StoreError;
use super::super::model::WakeEvent;
use super::{Tx, execute};
use futures::StreamExt;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio_postgres::{AsyncMessage, NoTls};

/// The payload of a notification about new messages.
const MESSAGES: &str = "messages";
/// The prefix of a notification about deliveries (`outbox:<target>`, or
/// `outbox:` for any target).
const OUTBOX: &str = "outbox:";
/// The payload of a notification about a plugin decision.
const PLUGINS: &str = "plugins";
/// The prefix of a notification about a command's answer (`command:<handle>`).
const COMMAND: &str = "command:";
/// Wake events kept for a slow receiver (a lagging one wakes everything).
pub(super) const CAPACITY: usize = 256;
/// The longest wait between two attempts to listen again.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// The channel of the stores working in `schema`: an identifier of at
/// most 63 bytes.
pub(super) fn channel_for(schema: &str) -> String {
    let mut name = format!("waybill_wake_{schema}");
    while name.len() > 63 {
        name.pop();
    }
    name
}

/// Sends `event` on `channel` when `tx` commits.
pub(super) async fn notify(
    tx: &Tx<'_>,
    channel: &str,
    event: &WakeEvent,
) -> Result<(), StoreError> {
    let payload = match event {
        WakeEvent::Messages => MESSAGES.to_string(),
        WakeEvent::Deliveries(target) => format!("{OUTBOX}{}", target.as_deref().unwrap_or("")),
        WakeEvent::Plugins => PLUGINS.to_string(),
        WakeEvent::Command(handle) => format!("{COMMAND}{handle}"),
    };
    execute(tx, "SELECT pg_notify($1, $2)", &[&channel, &payload]).await?;
    Ok(())
}

/// What a notification's payload means; `None` for one this version does
/// not know.
fn parse(payload: &str) -> Option<WakeEvent> {
    if payload == MESSAGES {
        return Some(WakeEvent::Messages);
    }
    if payload == PLUGINS {
        return Some(WakeEvent::Plugins);
    }
    if let Some(handle) = payload.strip_prefix(COMMAND) {
        return Some(WakeEvent::Command(handle.to_string()));
    }
    let target = payload.strip_prefix(OUTBOX)?;
    Some(WakeEvent::Deliveries(
        (!target.is_empty()).then(|| target.to_string()),
    ))
}

/// Listens on `channel` for as long as the task runs, sending what it
/// hears to `wakes`; reconnects with backoff when the connection is lost.
pub(super) async fn run(
    config: tokio_postgres::Config,
    channel: String,
    shown: String,
    wakes: broadcast::Sender<WakeEvent>,
) {
    let mut backoff = Duration::from_millis(100);
    let mut lost_before = false;
    loop {
        let outcome = listen_once(&config, &channel, &wakes, &mut lost_before).await;
        // A session that listened resets the backoff; one that never got
        // that far doubles it.
        if outcome.listened {
            backoff = Duration::from_millis(100);
        }
        tracing::warn!(url = %shown, channel = %channel, error = %outcome.error, retry_in_ms = backoff.as_millis() as u64, "store notifications: listening connection lost; polling meanwhile");
        lost_before = true;
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// How a listening session ended.
struct Ended {
    listened: bool,
    error: String,
}

/// One listening session: connect, `LISTEN`, forward notifications until
/// the connection fails.
async fn listen_once(
    config: &tokio_postgres::Config,
    channel: &str,
    wakes: &broadcast::Sender<WakeEvent>,
    lost_before: &mut bool,
) -> Ended {
    let ended = |listened, error: String| Ended { listened, error };
    let (client, mut connection) = match config.connect(NoTls).await {
        Ok(c) => c,
        Err(e) => return ended(false, e.to_string()),
    };
    let mut messages = futures::stream::poll_fn(move |cx| connection.poll_message(cx));
    let sql = format!("LISTEN \"{}\"", channel.replace('"', "\"\""));
    let listen = client.batch_execute(&sql);
    tokio::pin!(listen);
    // The connection must be polled for the LISTEN to be answered.
    loop {
        tokio::select! {
            done = &mut listen => match done {
                Ok(()) => break,
                Err(e) => return ended(false, e.to_string()),
            },
            message = messages.next() => match message {
                Some(Ok(m)) => forward(m, wakes),
                Some(Err(e)) => return ended(false, e.to_string()),
                None => return ended(false, "connection closed".into()),
            },
        }
    }
    if std::mem::take(lost_before) {
        tracing::info!(channel = %channel, "store notifications: listening again");
        // What committed while nobody listened was not heard.
        let _ = wakes.send(WakeEvent::Messages);
        let _ = wakes.send(WakeEvent::Deliveries(None));
        let _ = wakes.send(WakeEvent::Plugins);
    }
    loop {
        match messages.next().await {
            Some(Ok(m)) => forward(m, wakes),
            Some(Err(e)) => return ended(true, e.to_string()),
            None => return ended(true, "connection closed".into()),
        }
    }
}

fn forward(message: AsyncMessage, wakes: &broadcast::Sender<WakeEvent>) {
    match message {
        AsyncMessage::Notification(n) => {
            if let Some(event) = parse(n.payload()) {
                // No receiver yet (or any more) is fine.
                let _ = wakes.send(event);
            }
        }
        AsyncMessage::Notice(notice) => {
            tracing::debug!(notice = %notice, "store notifications: server notice");
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_channels_fit_an_identifier() {
        assert_eq!(parse("messages"), Some(WakeEvent::Messages));
        assert_eq!(
            parse("outbox:tms"),
            Some(WakeEvent::Deliveries(Some("tms".into())))
        );
        assert_eq!(parse("outbox:"), Some(WakeEvent::Deliveries(None)));
        assert_eq!(parse("plugins"), Some(WakeEvent::Plugins));
        assert_eq!(parse("something else"), None);
        assert_eq!(channel_for("public"), "waybill_wake_public");
        assert_eq!(channel_for(&"x".repeat(100)).len(), 63);
    }
}
