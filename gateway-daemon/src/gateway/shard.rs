//! One shard's loop: receive, filter, hand on in batches, checkpoint, and stop cleanly.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use std::task::Poll;

use futures::{FutureExt, StreamExt as _};
use steward_domain::events::Event;
use steward_domain::ids::{ApplicationId, UserId};
use tokio::sync::watch;
use twilight_gateway::error::ReceiveMessageError;
use twilight_gateway::queue::InMemoryQueue;
use twilight_gateway::{CloseFrame, EventTypeFlags, Shard, StreamExt};
use twilight_model::gateway::event::Event as GatewayEvent;

use super::checkpoint::{self, Checkpoint};
use super::{Exit, Gateway, convert};

/// The most events handed on in one batch (EventBridge's `PutEvents` limit).
const MAX_BATCH: usize = 10;
/// How often the checkpoint is written while events flow.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Only these dispatches are ever deserialised; everything else is skipped unparsed.
/// (Close frames always come through as `GatewayClose`.)
const FLAGS: EventTypeFlags = EventTypeFlags::READY
    .union(EventTypeFlags::RESUMED)
    .union(EventTypeFlags::MESSAGE_CREATE)
    .union(EventTypeFlags::GATEWAY_HELLO)
    .union(EventTypeFlags::GATEWAY_INVALIDATE_SESSION)
    .union(EventTypeFlags::GATEWAY_RECONNECT);

pub(super) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

struct State {
    gateway: Arc<Gateway>,
    path: PathBuf,
    bot: Option<UserId>,
    application: ApplicationId,
    hellos: u64,
    last_close: Option<u16>,
    ready: bool,
    batch: Vec<Event>,
    last_checkpoint: Instant,
}

type Item = Option<Result<GatewayEvent, ReceiveMessageError>>;

/// Runs one shard until shutdown or a fatal close.
pub(super) async fn run(
    mut shard: Shard<InMemoryQueue>,
    bot: Option<UserId>,
    gateway: Arc<Gateway>,
    path: PathBuf,
    mut shutdown: watch::Receiver<bool>,
) -> Exit {
    let application = gateway.application_id;
    let mut state = State {
        gateway,
        path,
        bot,
        application,
        hellos: 0,
        last_close: None,
        ready: false,
        batch: Vec::with_capacity(MAX_BATCH),
        last_checkpoint: Instant::now(),
    };
    let mut pending: Option<Item> = None;
    loop {
        let item = match pending.take() {
            Some(item) => item,
            None => tokio::select! {
                biased;
                _ = shutdown.changed() => {
                    let saved = snapshot(&shard, state.bot);
                    state.flush(saved).await;
                    return close(&mut shard, &mut state).await;
                }
                item = shard.next_event(FLAGS) => item,
            },
        };
        let Some(item) = item else {
            // The stream ends only when the shard closed fatally.
            state.flush(snapshot(&shard, state.bot)).await;
            state.set_ready(false);
            let code = state.last_close.unwrap_or(0);
            return Exit::Fatal(code);
        };
        match item {
            Ok(event) => state.handle(event).await,
            Err(error) => tracing::warn!(shard = shard.id().number(), %error, "gateway receive error"),
        }
        if !state.batch.is_empty() {
            // Under load more events are already waiting: take them into the batch first.
            if state.batch.len() < MAX_BATCH
                && let Some(next) = shard.next_event(FLAGS).now_or_never()
            {
                pending = Some(next);
                continue;
            }
            state.flush(snapshot(&shard, state.bot)).await;
        }
    }
}

/// The shard's session as a checkpoint; taken before awaiting, since a shard is not `Sync`.
fn snapshot(shard: &Shard<InMemoryQueue>, bot_user_id: Option<UserId>) -> Option<Checkpoint> {
    let session = shard.session()?;
    Some(Checkpoint {
        session_id: session.id().to_owned(),
        sequence: session.sequence(),
        resume_url: shard.resume_url().map(str::to_owned),
        saved_at: unix_now(),
        bot_user_id,
    })
}

/// Closes with "resume" semantics and saves the session so a restart can RESUME.
async fn close(shard: &mut Shard<InMemoryQueue>, state: &mut State) -> Exit {
    let saved = snapshot(shard, state.bot);
    shard.close(CloseFrame::RESUME);
    // The close frame goes out while the shard is polled. Stop polling the moment the shard
    // has sent it: polling further would reconnect (the session stays resumable).
    let sent = std::future::poll_fn(|cx| {
        loop {
            if !shard.state().is_identified() {
                return Poll::Ready(());
            }
            match shard.poll_next_unpin(cx) {
                Poll::Ready(Some(_)) => {}
                Poll::Ready(None) => return Poll::Ready(()),
                Poll::Pending if shard.state().is_identified() => return Poll::Pending,
                Poll::Pending => return Poll::Ready(()),
            }
        }
    });
    let _ = tokio::time::timeout(Duration::from_secs(2), sent).await;
    state.save(saved);
    state.set_ready(false);
    tracing::info!(shard = shard.id().number(), "gateway session saved for resuming");
    Exit::Shutdown
}

impl State {
    async fn handle(&mut self, event: GatewayEvent) {
        let metrics = &self.gateway.metrics;
        match event {
            GatewayEvent::GatewayHello(_) => {
                self.hellos += 1;
                if self.hellos > 1 {
                    metrics.reconnects.fetch_add(1, Ordering::Relaxed);
                }
            }
            GatewayEvent::Ready(ready) => {
                self.bot = UserId::new(ready.user.id.get()).ok();
                if let Ok(app) = ApplicationId::new(ready.application.id.get()) {
                    self.application = app;
                }
                tracing::info!(user = %ready.user.name, guilds = ready.guilds.len(), "gateway ready");
                self.set_ready(true);
                crate::systemd::ready();
            }
            GatewayEvent::Resumed => {
                tracing::info!("gateway session resumed");
                self.set_ready(true);
                crate::systemd::ready();
            }
            GatewayEvent::GatewayClose(frame) => {
                self.last_close = frame.as_ref().map(|f| f.code);
                self.set_ready(false);
                tracing::info!(code = ?self.last_close, "gateway connection closed");
            }
            GatewayEvent::GatewayInvalidateSession(resumable) => {
                tracing::info!(resumable, "gateway session invalidated");
            }
            GatewayEvent::GatewayReconnect => tracing::info!("gateway asked to reconnect"),
            GatewayEvent::MessageCreate(message) => {
                metrics.received.fetch_add(1, Ordering::Relaxed);
                let Some(bot) = self.bot else { return };
                let Some(incoming) = convert::incoming(&message, bot) else { return };
                let verdict = match incoming.guild {
                    Some(guild) => steward_domain::relay::relay(&*self.gateway.settings.get(guild).await, &incoming),
                    None => Err(steward_domain::relay::DropReason::DirectMessage),
                };
                match verdict.map(|()| convert::channel_message(&message, &incoming, bot, self.application)) {
                    Ok(Some(forwarded)) => self.batch.push(Event::MessageCreated(forwarded)),
                    Ok(None) => metrics.dropped(steward_domain::relay::DropReason::DirectMessage),
                    Err(reason) => metrics.dropped(reason),
                }
            }
            _ => {}
        }
    }

    fn set_ready(&mut self, ready: bool) {
        if ready != self.ready {
            self.ready = ready;
            let gauge = &self.gateway.metrics.shards_ready;
            if ready {
                gauge.fetch_add(1, Ordering::Relaxed);
            } else {
                gauge.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// Hands the batch on; only then may the checkpoint move past it.
    async fn flush(&mut self, snapshot: Option<Checkpoint>) {
        if !self.batch.is_empty() {
            let started = Instant::now();
            let count = self.batch.len() as u64;
            // The forwarder spools to disk when the destination is down, so an error here means
            // even the disk failed: keep the checkpoint where it was so a restart replays.
            if let Err(error) = self.gateway.forward.forward(&self.batch).await {
                tracing::error!(%error, events = count, "could not hand on events");
                self.batch.clear();
                return;
            }
            self.batch.clear();
            let metrics = &self.gateway.metrics;
            metrics.observe_forward(started.elapsed());
            metrics.forwarded.fetch_add(count, Ordering::Relaxed);
        }
        if self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            self.save(snapshot);
        }
    }

    fn save(&mut self, snapshot: Option<Checkpoint>) {
        let Some(checkpoint) = snapshot else { return };
        if let Err(error) = checkpoint::save(&self.path, &checkpoint) {
            tracing::warn!(%error, "could not save the gateway checkpoint");
        }
        self.last_checkpoint = Instant::now();
    }
}
