//! The in-process event bus of standalone mode: a bounded queue drained by worker tasks.

use std::sync::Arc;

use async_trait::async_trait;
use steward_domain::events::Event;
use steward_domain::ports::{BusError, EventBus};
use steward_domain::worker::Worker;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

/// How many events may wait before publishing fails (and the member is asked to retry).
pub const QUEUE_DEPTH: usize = 1_024;
/// How many events are handled at once.
pub const CONCURRENCY: usize = 32;

/// Why an event could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The queue is full: the worker is behind.
    #[error("the in-process queue is full ({QUEUE_DEPTH} events)")]
    Full,
    /// The worker has stopped (shutdown).
    #[error("the worker has stopped")]
    Closed,
}

/// The publishing side.
#[derive(Debug, Clone)]
pub struct LocalBus {
    tx: mpsc::Sender<Event>,
}

/// Creates the bus and the receiving end for [`run_worker`].
#[must_use]
pub fn local_bus() -> (LocalBus, mpsc::Receiver<Event>) {
    let (tx, rx) = mpsc::channel(QUEUE_DEPTH);
    (LocalBus { tx }, rx)
}

impl LocalBus {
    /// Queues an event, waiting while the queue is full (the gateway's back-pressure).
    ///
    /// # Errors
    /// Returns [`QueueError::Closed`] once the worker has stopped.
    pub async fn send(&self, event: Event) -> Result<(), QueueError> {
        self.tx.send(event).await.map_err(|_| QueueError::Closed)
    }
}

#[async_trait]
impl EventBus for LocalBus {
    async fn publish(&self, event: &Event) -> Result<(), BusError> {
        self.tx.try_send(event.clone()).map_err(|e| {
            let source = match e {
                mpsc::error::TrySendError::Full(_) => QueueError::Full,
                mpsc::error::TrySendError::Closed(_) => QueueError::Closed,
            };
            BusError { detail_type: event.detail_type(), source: Box::new(source) }
        })
    }
}

/// Handles events until every sender is dropped, then waits for the ones in flight.
pub async fn run_worker(mut rx: mpsc::Receiver<Event>, worker: Worker) {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = JoinSet::new();
    while let Some(event) = rx.recv().await {
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else { break };
        let worker = worker.clone();
        tasks.spawn(async move {
            // The worker logs its own failures; nothing to retry in-process.
            let _outcome = worker.handle(&event).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}
