//! Loading one snapshot endpoint: its answer streamed through the pager,
//! each page mapped on the blocking pool while the next one is read, and
//! the outcomes sent to the run. A run-wide semaphore bounds the plugin
//! calls in flight, so memory holds a few pages per endpoint at most.

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::FuturesUnordered;
use time::OffsetDateTime;
use tokio::sync::{Semaphore, mpsc};

use super::error::ReconcileError;
use super::fetch::SnapshotClient;
use super::mapper::{PageOutcome, SnapshotMapper};
use super::pager::{Cut, Pager};
use crate::config::SnapshotEndpoint;

/// One endpoint to read, with everything the task needs.
pub(crate) struct EndpointJob {
    pub mapper: Arc<SnapshotMapper>,
    pub endpoint: SnapshotEndpoint,
    pub since: Option<OffsetDateTime>,
    pub page_lines: usize,
    pub max_line_bytes: usize,
    pub client: SnapshotClient,
    /// Plugin calls allowed in flight, run-wide (`workers` permits).
    pub permits: Arc<Semaphore>,
    pub workers: usize,
    pub tx: mpsc::Sender<PageOutcome>,
}

/// What reading an endpoint to its end gave, beyond the pages.
#[derive(Debug)]
pub(crate) struct EndpointDone {
    pub system: String,
    pub bytes: u64,
}

impl EndpointJob {
    /// Reads the endpoint to its end; every page's outcome goes to `tx`.
    pub async fn run(self) -> Result<EndpointDone, ReconcileError> {
        let mapper = &self.mapper;
        let mut stream = self
            .client
            .open(&mapper.system, &self.endpoint, self.since)
            .await?;
        tracing::debug!(system = %mapper.system, url = %stream.url(), "snapshot answer streaming");
        let mut pager = Pager::new(self.page_lines, self.max_line_bytes);
        let mut cuts = Vec::new();
        let mut in_flight = FuturesUnordered::new();
        loop {
            let chunk = stream.next_chunk().await?;
            match &chunk {
                Some(data) => pager.push(data, &mut cuts),
                None => pager.finish(&mut cuts),
            }
            for cut in cuts.drain(..) {
                let page = match cut {
                    Cut::Page(page) => page,
                    Cut::Oversized { line, bytes } => {
                        let finding = mapper.oversized(line, bytes, self.max_line_bytes);
                        self.send(PageOutcome {
                            system: mapper.system.clone(),
                            findings: vec![finding],
                            ..PageOutcome::default()
                        })
                        .await?;
                        continue;
                    }
                };
                let permit = self
                    .permits
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(|_| ReconcileError::Stopped("the worker pool closed"))?;
                let mapper = mapper.clone();
                in_flight.push(tokio::task::spawn_blocking(move || {
                    let _permit = permit;
                    mapper.map_page(page)
                }));
                // Keep reading while pages map, but never hold more pages
                // than the pool can work on.
                while in_flight.len() >= self.workers.max(1) {
                    if let Some(done) = in_flight.next().await {
                        self.send(done?).await?;
                    }
                }
            }
            if chunk.is_none() {
                break;
            }
        }
        while let Some(done) = in_flight.next().await {
            self.send(done?).await?;
        }
        Ok(EndpointDone {
            system: mapper.system.clone(),
            bytes: stream.bytes,
        })
    }

    async fn send(&self, outcome: PageOutcome) -> Result<(), ReconcileError> {
        self.tx
            .send(outcome)
            .await
            .map_err(|_| ReconcileError::Stopped("the run stopped reading snapshots"))
    }
}
