//! One shard's loop: receive, filter, hand on in batches, checkpoint, and stop cleanly.
//!
//! Events that could not be handed on stay in a bounded backlog and are offered again on the
//! next flush; the saved checkpoint never moves past the oldest of them, so a restart replays it.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Poll;
use std::time::Duration;

use futures::{FutureExt, StreamExt as _};
use steward_domain::events::Event;
use steward_domain::ids::{ApplicationId, UserId};
use tokio::sync::watch;
use tokio::time::Instant;
use twilight_gateway::error::ReceiveMessageError;
use twilight_gateway::queue::InMemoryQueue;
use twilight_gateway::{CloseFrame, EventTypeFlags, Shard, StreamExt};
use twilight_model::gateway::event::Event as GatewayEvent;

use super::checkpoint::{self, Checkpoint};
use super::{Exit, Gateway, convert};

/// The most events handed on in one batch (EventBridge's `PutEvents` limit).
const MAX_BATCH: usize = 10;
/// How often events that could not be handed on are offered again while no new event arrives.
const RETRY_BACKLOG_EVERY: Duration = Duration::from_secs(1);
/// How often the checkpoint is written while events flow.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);
/// The most events kept in memory while they cannot be handed on (a few MB). Beyond it the
/// oldest are dropped with an error log; the checkpoint stays before them, so a restart replays.
const MAX_BACKLOG: usize = 10_000;

/// Only these dispatches are ever deserialised; everything else is skipped unparsed.
/// (Close frames always come through as `GatewayClose`.)
const FLAGS: EventTypeFlags = EventTypeFlags::READY
    .union(EventTypeFlags::RESUMED)
    .union(EventTypeFlags::MESSAGE_CREATE)
    .union(EventTypeFlags::MESSAGE_UPDATE)
    // What the directory learns: channel names, thread parents, the owner and roles.
    .union(EventTypeFlags::GUILD_CREATE)
    .union(EventTypeFlags::GUILD_UPDATE)
    .union(EventTypeFlags::GUILD_DELETE)
    .union(EventTypeFlags::ROLE_CREATE)
    .union(EventTypeFlags::ROLE_UPDATE)
    .union(EventTypeFlags::ROLE_DELETE)
    .union(EventTypeFlags::CHANNEL_CREATE)
    .union(EventTypeFlags::CHANNEL_UPDATE)
    .union(EventTypeFlags::CHANNEL_DELETE)
    .union(EventTypeFlags::THREAD_CREATE)
    .union(EventTypeFlags::THREAD_UPDATE)
    .union(EventTypeFlags::THREAD_DELETE)
    .union(EventTypeFlags::GATEWAY_HELLO)
    .union(EventTypeFlags::GATEWAY_INVALIDATE_SESSION)
    .union(EventTypeFlags::GATEWAY_RECONNECT);

/// Where an event arrived: which session (READYs seen so far) and its sequence in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Arrival {
    session: u64,
    sequence: Option<u64>,
}

/// Events not yet handed on, oldest first; kept as two parallel lists so a batch is a slice.
#[derive(Default)]
struct Backlog {
    events: Vec<Event>,
    arrivals: Vec<Arrival>,
}

impl Backlog {
    fn push(&mut self, arrival: Arrival, event: Event) {
        self.events.push(event);
        self.arrivals.push(arrival);
    }

    fn len(&self) -> usize {
        self.events.len()
    }

    fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// Forgets the oldest `n` (handed on, or dropped); returns their arrivals.
    fn remove_oldest(&mut self, n: usize) -> std::vec::Drain<'_, Arrival> {
        self.events.drain(..n);
        self.arrivals.drain(..n)
    }

    /// The sequence of the oldest event kept from `session`.
    fn oldest_in(&self, session: u64) -> Option<u64> {
        self.arrivals.iter().filter(|a| a.session == session).find_map(|a| a.sequence)
    }
}

struct State {
    gateway: Arc<Gateway>,
    path: PathBuf,
    bot: Option<UserId>,
    application: ApplicationId,
    hellos: u64,
    last_close: Option<u16>,
    ready: bool,
    /// READYs seen: a new session restarts sequences, so they only compare within one.
    session: u64,
    backlog: Backlog,
    /// The sequence of the oldest event of this session dropped from a full backlog.
    lost_since: Option<u64>,
    /// Events dropped from the backlog since it last drained (for the log).
    lost: u64,
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
    let mut state = State::new(gateway, path, bot);
    let mut pending: Option<Item> = None;
    loop {
        let item = match pending.take() {
            Some(item) => item,
            None => tokio::select! {
                biased;
                _ = shutdown.changed() => {
                    let saved = state.snapshot(&shard);
                    state.flush(saved).await;
                    return close(&mut shard, &mut state).await;
                }
                item = shard.next_event(FLAGS) => item,
                // A quiet channel must not leave a failed hand-off waiting for the next message.
                () = tokio::time::sleep(RETRY_BACKLOG_EVERY), if !state.backlog.is_empty() => {
                    state.flush(state.snapshot(&shard)).await;
                    continue;
                }
            },
        };
        // The shard is not polled again before this, so its session holds this event's sequence.
        let sequence = shard.session().map(twilight_gateway::Session::sequence);
        let Some(item) = item else {
            // The stream ends only when the shard closed fatally.
            state.flush(state.snapshot(&shard)).await;
            state.set_ready(false);
            let code = state.last_close.unwrap_or(0);
            return Exit::Fatal(code);
        };
        match item {
            Ok(event) => state.handle(event, sequence).await,
            Err(error) => tracing::warn!(shard = shard.id().number(), %error, "gateway receive error"),
        }
        if !state.backlog.is_empty() {
            // Under load more events are already waiting: take them into the batch first.
            if state.backlog.len() < MAX_BATCH
                && let Some(next) = shard.next_event(FLAGS).now_or_never()
            {
                pending = Some(next);
                continue;
            }
            state.flush(state.snapshot(&shard)).await;
        }
    }
}

/// Closes with "resume" semantics and saves the session so a restart can RESUME.
async fn close(shard: &mut Shard<InMemoryQueue>, state: &mut State) -> Exit {
    let saved = state.snapshot(shard);
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
    let stranded = state.backlog.arrivals.iter().filter(|a| a.session != state.session).count();
    if stranded > 0 {
        // Their session was replaced, so no RESUME can bring them back.
        tracing::error!(events = stranded, "events of an earlier gateway session were never handed on and are lost");
    }
    state.save(saved);
    state.set_ready(false);
    tracing::info!(shard = shard.id().number(), "gateway session saved for resuming");
    Exit::Shutdown
}

impl State {
    fn new(gateway: Arc<Gateway>, path: PathBuf, bot: Option<UserId>) -> Self {
        let application = gateway.application_id;
        Self {
            gateway,
            path,
            bot,
            application,
            hellos: 0,
            last_close: None,
            ready: false,
            session: 0,
            backlog: Backlog::default(),
            lost_since: None,
            lost: 0,
            last_checkpoint: Instant::now(),
        }
    }

    /// The shard's session as a checkpoint; taken before awaiting, since a shard is not `Sync`.
    fn snapshot(&self, shard: &Shard<InMemoryQueue>) -> Option<Checkpoint> {
        let session = shard.session()?;
        Some(Checkpoint {
            session_id: session.id().to_owned(),
            sequence: session.sequence(),
            resume_url: shard.resume_url().map(str::to_owned),
            saved_at: self.gateway.clock().now().as_secs(),
            bot_user_id: self.bot,
        })
    }

    /// Handles one gateway event that arrived with `sequence` in the current session.
    async fn handle(&mut self, event: GatewayEvent, sequence: Option<u64>) {
        let metrics = &self.gateway.metrics;
        self.gateway.directory.observe(&event);
        match event {
            GatewayEvent::GatewayHello(_) => {
                self.hellos += 1;
                if self.hellos > 1 {
                    metrics.reconnects.fetch_add(1, Ordering::Relaxed);
                }
            }
            GatewayEvent::Ready(ready) => {
                // A new session: its sequences start over, and the old one cannot be resumed.
                self.session += 1;
                self.lost_since = None;
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
            GatewayEvent::MessageCreate(message) => self.relay(&message, sequence, false).await,
            // Only a member's own edit sets `edited_timestamp` (embeds unfurling do not).
            GatewayEvent::MessageUpdate(update) if update.edited_timestamp.is_some() => {
                self.relay(&update, sequence, true).await;
            }
            _ => {}
        }
    }

    /// Queues a message (or a member's edit of one) for the worker when a feature needs it.
    async fn relay(&mut self, message: &twilight_model::channel::Message, sequence: Option<u64>, edit: bool) {
        let metrics = &self.gateway.metrics;
        metrics.received.fetch_add(1, Ordering::Relaxed);
        let Some(bot) = self.bot else { return };
        let Some(incoming) = convert::incoming(message, bot) else { return };
        let verdict = match incoming.guild {
            Some(guild) => {
                let settings = self.gateway.settings.get(guild).await;
                if edit {
                    steward_domain::relay::relay_edit(&settings, &incoming)
                } else {
                    steward_domain::relay::relay(&settings, &incoming)
                }
            }
            None => Err(steward_domain::relay::DropReason::DirectMessage),
        };
        match verdict.map(|()| convert::channel_message(message, &incoming, bot, self.application)) {
            Ok(Some(mut forwarded)) => {
                forwarded.edited = edit;
                if let Some(channel) = self.gateway.directory.channel(forwarded.channel_id) {
                    forwarded.channel_name = channel.name;
                    forwarded.parent_channel_id = channel.parent;
                }
                let arrival = Arrival { session: self.session, sequence };
                self.backlog.push(arrival, Event::MessageCreated(forwarded));
            }
            Ok(None) => metrics.dropped(steward_domain::relay::DropReason::DirectMessage),
            Err(reason) => metrics.dropped(reason),
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

    /// Hands the backlog on, oldest first, in batches. What fails stays for the next flush,
    /// and the checkpoint (saved at most every [`CHECKPOINT_EVERY`]) never passes it.
    async fn flush(&mut self, snapshot: Option<Checkpoint>) {
        let mut sent = 0;
        while sent < self.backlog.len() {
            let end = self.backlog.len().min(sent + MAX_BATCH);
            let started = Instant::now();
            // The forwarder spools to disk when the destination is down, so an error here means
            // even the disk failed: keep the events, and the checkpoint before them.
            if let Err(error) = self.gateway.forward.forward(&self.backlog.events[sent..end]).await {
                let kept = self.backlog.len() - sent;
                tracing::error!(%error, events = kept, "could not hand on events; keeping them to retry");
                break;
            }
            let metrics = &self.gateway.metrics;
            metrics.observe_forward(started.elapsed());
            metrics.forwarded.fetch_add((end - sent) as u64, Ordering::Relaxed);
            sent = end;
        }
        self.backlog.remove_oldest(sent);
        if self.backlog.is_empty() && self.lost > 0 {
            tracing::error!(
                lost = self.lost,
                "events flow again; the ones dropped from memory are replayed only after a restart"
            );
            self.lost = 0;
        }
        self.enforce_bound();
        if self.last_checkpoint.elapsed() >= CHECKPOINT_EVERY {
            self.save(snapshot);
        }
    }

    /// Drops the oldest events beyond [`MAX_BACKLOG`], remembering where this session's losses
    /// begin so the checkpoint stays before them.
    fn enforce_bound(&mut self) {
        let excess = self.backlog.len().saturating_sub(MAX_BACKLOG);
        if excess == 0 {
            return;
        }
        let session = self.session;
        let oldest = self.backlog.remove_oldest(excess).filter(|a| a.session == session).find_map(|a| a.sequence);
        self.lost_since = self.lost_since.or(oldest);
        if self.lost == 0 {
            tracing::error!(
                max = MAX_BACKLOG,
                "events cannot be handed on and the backlog is full: dropping the oldest from memory \
                 (the checkpoint stays before them, so a restart replays them)"
            );
        }
        self.lost += excess as u64;
    }

    /// The sequence of this session's oldest event not handed on.
    fn oldest_unforwarded(&self) -> Option<u64> {
        self.lost_since.or_else(|| self.backlog.oldest_in(self.session))
    }

    /// Saves `snapshot`, pinned before the oldest event not handed on.
    fn save(&mut self, snapshot: Option<Checkpoint>) {
        let Some(mut checkpoint) = snapshot else { return };
        if let Some(oldest) = self.oldest_unforwarded() {
            checkpoint.sequence = checkpoint.sequence.min(oldest.saturating_sub(1));
        }
        if let Err(error) = checkpoint::save(&self.path, &checkpoint) {
            tracing::warn!(%error, "could not save the gateway checkpoint");
        }
        self.last_checkpoint = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use steward_domain::testing::MemoryStore;

    use super::*;
    use crate::gateway::metrics::Metrics;
    use crate::gateway::settings_cache::SettingsCache;
    use crate::gateway::testing::{Flaky, event};

    fn state(forward: Arc<Flaky>, dir: &std::path::Path) -> State {
        let gateway = Arc::new(Gateway {
            settings: Arc::new(SettingsCache::new(Arc::new(MemoryStore::default()))),
            forward,
            metrics: Arc::new(Metrics::default()),
            application_id: ApplicationId::new(1).unwrap(),
            directory: crate::gateway::directory::Directory::default(),
        });
        State::new(gateway, checkpoint::path(dir, 0), None)
    }

    fn at(sequence: u64) -> Option<Checkpoint> {
        let session_id = "s".into();
        Some(Checkpoint { session_id, sequence, resume_url: None, saved_at: 0, bot_user_id: None })
    }

    fn saved(dir: &std::path::Path) -> u64 {
        checkpoint::load(&checkpoint::path(dir, 0)).unwrap().sequence
    }

    #[tokio::test(start_paused = true)]
    async fn the_checkpoint_waits_for_events_that_failed_and_they_are_retried_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let flaky = Arc::new(Flaky::failing());
        let mut state = state(Arc::clone(&flaky), dir.path());
        for n in 1..=12 {
            state.backlog.push(Arrival { session: 0, sequence: Some(100 + n) }, event(n));
        }
        tokio::time::advance(CHECKPOINT_EVERY).await;
        state.flush(at(150)).await;
        assert_eq!((state.backlog.len(), saved(dir.path())), (12, 100), "kept, and pinned before seq 101");

        flaky.down.store(false, Ordering::SeqCst);
        tokio::time::advance(CHECKPOINT_EVERY).await;
        state.flush(at(151)).await;
        assert!(state.backlog.is_empty());
        assert_eq!(flaky.ids(), (1..=12).collect::<Vec<_>>(), "in order, in batches of {MAX_BATCH}");
        assert_eq!(saved(dir.path()), 151);
        assert_eq!(state.gateway.metrics.forwarded.load(Ordering::Relaxed), 12);
    }

    #[tokio::test(start_paused = true)]
    async fn a_full_backlog_drops_the_oldest_and_the_checkpoint_stays_before_them() {
        let dir = tempfile::tempdir().unwrap();
        let flaky = Arc::new(Flaky::failing());
        let mut state = state(Arc::clone(&flaky), dir.path());
        let total = MAX_BACKLOG as u64 + 5;
        for n in 1..=total {
            state.backlog.push(Arrival { session: 0, sequence: Some(n) }, event(n));
        }
        tokio::time::advance(CHECKPOINT_EVERY).await;
        state.flush(at(total)).await;
        assert_eq!((state.backlog.len(), state.lost), (MAX_BACKLOG, 5));
        assert_eq!(saved(dir.path()), 0, "before the first event dropped");

        // The destination recovers: the kept events go, the dropped ones wait for a restart.
        flaky.down.store(false, Ordering::SeqCst);
        tokio::time::advance(CHECKPOINT_EVERY).await;
        state.flush(at(total + 1)).await;
        assert_eq!(flaky.ids().first(), Some(&6));
        assert_eq!((state.backlog.len(), state.lost), (0, 0));
        assert_eq!(saved(dir.path()), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_session_releases_the_pin_of_the_old_one() {
        let dir = tempfile::tempdir().unwrap();
        let flaky = Arc::new(Flaky::failing());
        let mut state = state(Arc::clone(&flaky), dir.path());
        state.backlog.push(Arrival { session: 0, sequence: Some(40) }, event(1));
        state.session = 1;
        tokio::time::advance(CHECKPOINT_EVERY).await;
        state.flush(at(3)).await;
        assert_eq!((state.backlog.len(), saved(dir.path())), (1, 3), "kept for retry, but not pinning session 1");
    }
}
