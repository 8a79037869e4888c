//! Handing events on: to the in-process worker (standalone) or EventBridge (AWS), with a
//! bounded durable spool on disk while the destination is unreachable.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use steward_domain::events::Event;
use steward_domain::ports::BoxError;
use steward_eventbridge::EventBridgeBus;

use super::metrics::Metrics;
use crate::local_bus::LocalBus;

/// Where forwarded events go.
#[async_trait]
pub trait Forward: Send + Sync {
    /// Hands on a batch; `Ok` means the destination has it.
    async fn forward(&self, events: &[Event]) -> Result<(), BoxError>;
}

#[async_trait]
impl Forward for LocalBus {
    async fn forward(&self, events: &[Event]) -> Result<(), BoxError> {
        for event in events {
            self.send(event.clone()).await?;
        }
        Ok(())
    }
}

#[async_trait]
impl Forward for EventBridgeBus {
    async fn forward(&self, events: &[Event]) -> Result<(), BoxError> {
        self.publish_batch(events).await.map_err(Into::into)
    }
}

/// Counts events and forgets them (benchmarks, tests).
#[derive(Debug, Default)]
pub struct CountingSink(pub AtomicU64);

#[async_trait]
impl Forward for CountingSink {
    async fn forward(&self, events: &[Event]) -> Result<(), BoxError> {
        self.0.fetch_add(events.len() as u64, Ordering::Relaxed);
        Ok(())
    }
}

/// The default bound of the spool on disk.
pub const SPOOL_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// A forwarder that writes batches it could not hand on to disk and drains them later.
///
/// Spooled batches are JSON-lines files named by a monotonically increasing number, drained
/// oldest first. When the spool exceeds its bound, the oldest files are dropped with an error
/// log: losing the oldest messages beats filling the disk of the host.
pub struct Spooled {
    inner: Arc<dyn Forward>,
    dir: PathBuf,
    limit_bytes: u64,
    next: AtomicU64,
    metrics: Arc<Metrics>,
    drain_lock: tokio::sync::Mutex<()>,
}

impl Spooled {
    /// Wraps `inner`, spooling into `dir` (created if needed).
    ///
    /// # Errors
    /// Returns the I/O error if the directory cannot be created or read.
    pub fn new(inner: Arc<dyn Forward>, dir: &Path, limit_bytes: u64, metrics: Arc<Metrics>) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let files = spool_files(dir)?;
        let next = files.last().map_or(0, |(n, _)| n + 1);
        let spooled: u64 = files.iter().map(|(_, p)| count_lines(p)).sum();
        metrics.spooled.store(spooled, Ordering::Relaxed);
        Ok(Self {
            inner,
            dir: dir.to_owned(),
            limit_bytes,
            next: AtomicU64::new(next),
            metrics,
            drain_lock: tokio::sync::Mutex::new(()),
        })
    }

    fn write(&self, events: &[Event]) -> std::io::Result<()> {
        let mut body = String::new();
        for event in events {
            body.push_str(&serde_json::to_string(event).map_err(std::io::Error::other)?);
            body.push('\n');
        }
        let n = self.next.fetch_add(1, Ordering::SeqCst);
        let path = self.dir.join(format!("{n:020}.jsonl"));
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, &path)?;
        self.metrics.spooled.fetch_add(events.len() as u64, Ordering::Relaxed);
        self.enforce_limit()
    }

    fn enforce_limit(&self) -> std::io::Result<()> {
        let files = spool_files(&self.dir)?;
        let mut total: u64 = files.iter().map(|(_, p)| std::fs::metadata(p).map_or(0, |m| m.len())).sum();
        for (_, path) in files {
            if total <= self.limit_bytes {
                break;
            }
            let size = std::fs::metadata(&path).map_or(0, |m| m.len());
            let lost = count_lines(&path);
            std::fs::remove_file(&path)?;
            self.metrics.spooled.fetch_sub(lost.min(self.metrics.spooled.load(Ordering::Relaxed)), Ordering::Relaxed);
            total = total.saturating_sub(size);
            tracing::error!(lost, path = %path.display(), "spool full: dropped the oldest spooled events");
        }
        Ok(())
    }

    /// Hands on spooled batches, oldest first, until one fails. Returns how many events went.
    pub async fn drain(&self) -> usize {
        let _guard = self.drain_lock.lock().await;
        let Ok(files) = spool_files(&self.dir) else { return 0 };
        let mut sent = 0;
        for (_, path) in files {
            let Ok(text) = std::fs::read_to_string(&path) else { continue };
            let events: Vec<Event> = text
                .lines()
                .filter_map(|line| match serde_json::from_str(line) {
                    Ok(event) => Some(event),
                    Err(error) => {
                        tracing::error!(%error, "dropping an unreadable spooled event");
                        None
                    }
                })
                .collect();
            if let Err(error) = self.inner.forward(&events).await {
                tracing::info!(%error, "destination still unreachable; keeping the spool");
                return sent;
            }
            if let Err(error) = std::fs::remove_file(&path) {
                tracing::error!(%error, path = %path.display(), "could not remove a drained spool file");
                return sent;
            }
            sent += events.len();
            let count = events.len() as u64;
            self.metrics.spooled.fetch_sub(count.min(self.metrics.spooled.load(Ordering::Relaxed)), Ordering::Relaxed);
        }
        sent
    }

    /// Drains the spool every `every` until `shutdown` resolves.
    pub async fn drain_forever(self: Arc<Self>, every: Duration, shutdown: impl Future<Output = ()>) {
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => return,
                () = tokio::time::sleep(every) => {
                    if self.metrics.spooled.load(Ordering::Relaxed) > 0 {
                        let sent = self.drain().await;
                        if sent > 0 {
                            tracing::info!(sent, "spooled events handed on");
                        }
                    }
                }
            }
        }
    }
}

#[async_trait]
impl Forward for Spooled {
    async fn forward(&self, events: &[Event]) -> Result<(), BoxError> {
        // Keep order: while older events wait in the spool, new ones queue behind them.
        if self.metrics.spooled.load(Ordering::Relaxed) == 0 {
            match self.inner.forward(events).await {
                Ok(()) => return Ok(()),
                Err(error) => tracing::warn!(%error, events = events.len(), "forward failed; spooling to disk"),
            }
        }
        self.write(events).map_err(Into::into)
    }
}

fn spool_files(dir: &Path) -> std::io::Result<Vec<(u64, PathBuf)>> {
    let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == "jsonl"))
        .filter_map(|path| path.file_stem()?.to_str()?.parse().ok().map(|n| (n, path.clone())))
        .collect();
    files.sort();
    Ok(files)
}

fn count_lines(path: &Path) -> u64 {
    std::fs::read_to_string(path).map_or(0, |t| t.lines().count() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::testing::{Flaky, event};

    #[tokio::test]
    async fn batches_survive_an_outage_in_order_and_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let flaky = Arc::new(Flaky::default());
        let metrics = Arc::new(Metrics::default());
        let spooled = Spooled::new(flaky.clone(), dir.path(), SPOOL_LIMIT_BYTES, metrics.clone()).unwrap();
        spooled.forward(&[event(1)]).await.unwrap();
        flaky.down.store(true, Ordering::SeqCst);
        spooled.forward(&[event(2), event(3)]).await.unwrap();
        assert_eq!(metrics.spooled.load(Ordering::Relaxed), 2);
        flaky.down.store(false, Ordering::SeqCst);
        spooled.forward(&[event(4)]).await.unwrap();
        assert_eq!(flaky.ids().len(), 1, "new events queue behind the spool");

        // A restart finds the spool on disk.
        drop(spooled);
        let metrics = Arc::new(Metrics::default());
        let reopened = Spooled::new(flaky.clone(), dir.path(), SPOOL_LIMIT_BYTES, metrics.clone()).unwrap();
        assert_eq!(metrics.spooled.load(Ordering::Relaxed), 3);
        assert_eq!(reopened.drain().await, 3);
        assert_eq!(flaky.ids(), [1, 2, 3, 4]);
        assert_eq!(metrics.spooled.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn the_spool_is_bounded_dropping_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let flaky = Arc::new(Flaky::default());
        flaky.down.store(true, Ordering::SeqCst);
        let spooled = Spooled::new(flaky.clone(), dir.path(), 2_000, Arc::new(Metrics::default())).unwrap();
        for n in 1..=20 {
            spooled.forward(&[event(n)]).await.unwrap();
        }
        let size: u64 = spool_files(dir.path()).unwrap().iter().map(|(_, p)| std::fs::metadata(p).unwrap().len()).sum();
        assert!(size <= 2_000, "{size} bytes");
        flaky.down.store(false, Ordering::SeqCst);
        spooled.drain().await;
        let got = flaky.ids();
        assert!(!got.is_empty() && got.len() < 20);
        assert_eq!(got.last(), Some(&20), "the newest are kept");
    }

    /// Lets spawned tasks run up to their next wait (the clock is paused, so time stands still).
    async fn settle() {
        for _ in 0..16 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test(start_paused = true)]
    async fn the_spool_drains_on_its_timer_until_shutdown() {
        const EVERY: Duration = Duration::from_secs(5);
        let dir = tempfile::tempdir().unwrap();
        let flaky = Arc::new(Flaky::default());
        let metrics = Arc::new(Metrics::default());
        let spooled = Arc::new(Spooled::new(flaky.clone(), dir.path(), SPOOL_LIMIT_BYTES, metrics.clone()).unwrap());
        flaky.down.store(true, Ordering::SeqCst);
        spooled.forward(&[event(1), event(2)]).await.unwrap();
        flaky.down.store(false, Ordering::SeqCst);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(Arc::clone(&spooled).drain_forever(EVERY, async move {
            let _ = stopped.await;
        }));
        settle().await;

        tokio::time::advance(EVERY - Duration::from_millis(1)).await;
        settle().await;
        assert!(flaky.ids().is_empty(), "nothing before the interval");
        tokio::time::advance(Duration::from_millis(1)).await;
        settle().await;
        assert_eq!(flaky.ids(), [1, 2]);
        assert_eq!(metrics.spooled.load(Ordering::Relaxed), 0);

        // Another outage: the next tick hands on what was spooled meanwhile.
        flaky.down.store(true, Ordering::SeqCst);
        spooled.forward(&[event(3)]).await.unwrap();
        flaky.down.store(false, Ordering::SeqCst);
        tokio::time::advance(EVERY).await;
        settle().await;
        assert_eq!(flaky.ids(), [1, 2, 3]);

        stop.send(()).unwrap();
        task.await.unwrap();
    }
}
