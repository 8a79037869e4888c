//! A fake Discord gateway (websocket, JSON encoding) on 127.0.0.1.
//!
//! It speaks enough of the protocol to drive a real client: HELLO, IDENTIFY → READY (with its
//! own ws:// URL as `resume_gateway_url`), heartbeats and ACKs (which can be withheld to make a
//! zombie), dispatches with increasing sequence numbers kept in a replay buffer, RESUME →
//! replay → RESUMED, op 7, op 9, close codes, and abrupt TCP drops. READY can be withheld
//! from all but the first IDENTIFYs, to hold some shards of a sharded client unready.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};
use tokio::sync::broadcast;

/// The bot user id the fake's READY announces.
pub const BOT_USER_ID: u64 = 1_300_000_000_000_000_001;

/// An instruction to the live connection.
#[derive(Debug, Clone)]
enum Control {
    /// Send the buffered dispatch with this sequence.
    Send(u64),
    /// op 7: reconnect and resume.
    Reconnect,
    /// op 9 with `d`.
    InvalidSession(bool),
    /// Close with a code.
    Close(u16),
    /// Drop the TCP connection without a close frame.
    Drop,
    /// Send the frames prepared by [`FakeGateway::prepare_burst`] (load tests).
    Burst,
    /// Send READY to connections whose IDENTIFY was held.
    ReleaseReady,
}

#[derive(Debug, Default)]
struct Inner {
    session_id: Option<String>,
    seq: u64,
    /// Dispatches of the current session: (sequence, payload).
    buffer: Vec<(u64, Value)>,
    identifies: u32,
    resumes: u32,
    connections: u32,
    heartbeats: u32,
    ack_heartbeats: bool,
    heartbeat_interval_ms: u64,
    /// Pre-serialised MESSAGE_CREATE frames for a load test (not kept for replay).
    burst: Vec<String>,
    /// How many more IDENTIFYs get READY; `None`: all of them.
    ready_budget: Option<u32>,
}

/// The fake gateway; clone it freely.
#[derive(Clone)]
pub struct FakeGateway {
    inner: Arc<Mutex<Inner>>,
    control: broadcast::Sender<Control>,
    /// `ws://127.0.0.1:PORT` (no trailing slash), for `DISCORD_GATEWAY_URL`.
    pub url: String,
}

impl FakeGateway {
    /// Starts the fake on a free loopback port.
    pub async fn start() -> Self {
        Self::start_with_heartbeat(Duration::from_millis(41_250)).await
    }

    /// Starts the fake with a custom heartbeat interval (short ones make zombies quick to find).
    pub async fn start_with_heartbeat(interval: Duration) -> Self {
        let inner = Arc::new(Mutex::new(Inner {
            ack_heartbeats: true,
            heartbeat_interval_ms: u64::try_from(interval.as_millis()).unwrap(),
            ..Inner::default()
        }));
        let (control, _) = broadcast::channel(1 << 16);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let url = format!("ws://{addr}");
        let fake = Self { inner, control, url };
        let app = Router::new().route("/", get(upgrade)).with_state(fake.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        fake
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap()
    }

    /// Dispatches an event (buffered for replay); returns its sequence.
    pub fn dispatch(&self, name: &str, data: Value) -> u64 {
        let seq = {
            let mut inner = self.lock();
            inner.seq += 1;
            let seq = inner.seq;
            inner.buffer.push((seq, json!({"op": 0, "t": name, "s": seq, "d": data})));
            seq
        };
        let _ = self.control.send(Control::Send(seq));
        seq
    }

    /// Dispatches a MESSAGE_CREATE.
    pub fn message(&self, message: Value) -> u64 {
        self.dispatch("MESSAGE_CREATE", message)
    }

    /// Sends op 7 (reconnect).
    pub fn reconnect(&self) {
        let _ = self.control.send(Control::Reconnect);
    }

    /// Sends op 9 (invalid session), resumable or not.
    pub fn invalidate_session(&self, resumable: bool) {
        let _ = self.control.send(Control::InvalidSession(resumable));
    }

    /// Closes the connection with `code`.
    pub fn close(&self, code: u16) {
        let _ = self.control.send(Control::Close(code));
    }

    /// Drops the TCP connection abruptly.
    pub fn drop_connection(&self) {
        let _ = self.control.send(Control::Drop);
    }

    /// Serialises `count` MESSAGE_CREATE frames across `guilds` guilds ahead of time, so a load
    /// test measures the client, not the fake. One message in ten mentions the bot.
    pub fn prepare_burst(&self, count: u64, guilds: u64) {
        let mut inner = self.lock();
        let mut frames = Vec::with_capacity(usize::try_from(count).unwrap());
        for i in 0..count {
            inner.seq += 1;
            let seq = inner.seq;
            let guild = 1_000 + (i % guilds.max(1));
            let message = message_create(MessageSpec {
                id: 10_000_000 + seq,
                guild,
                channel: guild * 10,
                author: 500 + (i % 50),
                content: "just chatting about the weekend, nothing to see here",
                mentions_bot: i % 10 == 0,
                ..MessageSpec::default()
            });
            frames.push(json!({"op": 0, "t": "MESSAGE_CREATE", "s": seq, "d": message}).to_string());
        }
        inner.burst = frames;
    }

    /// Sends the prepared frames as fast as the socket takes them.
    pub fn burst(&self) {
        let _ = self.control.send(Control::Burst);
    }

    /// Stops (or resumes) acknowledging heartbeats: a client should declare the connection a
    /// zombie, reconnect and RESUME.
    pub fn ack_heartbeats(&self, ack: bool) {
        self.lock().ack_heartbeats = ack;
    }

    /// Answers only the next `n` IDENTIFYs with READY; later ones wait for [`Self::release_ready`].
    pub fn withhold_ready_after(&self, n: u32) {
        self.lock().ready_budget = Some(n);
    }

    /// Sends READY to every held IDENTIFY, and to all later ones.
    pub fn release_ready(&self) {
        self.lock().ready_budget = None;
        let _ = self.control.send(Control::ReleaseReady);
    }

    /// IDENTIFYs received.
    pub fn identifies(&self) -> u32 {
        self.lock().identifies
    }

    /// RESUMEs received.
    pub fn resumes(&self) -> u32 {
        self.lock().resumes
    }

    /// Connections accepted.
    pub fn connections(&self) -> u32 {
        self.lock().connections
    }

    /// Heartbeats received.
    pub fn heartbeats(&self) -> u32 {
        self.lock().heartbeats
    }

    /// Waits until `condition` holds, up to `timeout`.
    pub async fn wait_until(&self, timeout: Duration, condition: impl Fn(&Self) -> bool) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            if condition(self) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        condition(self)
    }
}

async fn upgrade(State(fake): State<FakeGateway>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(1 << 20).on_upgrade(move |socket| connection(fake, socket))
}

async fn send(socket: &mut WebSocket, payload: &Value) -> bool {
    socket.send(Message::Text(payload.to_string().into())).await.is_ok()
}

async fn connection(fake: FakeGateway, mut socket: WebSocket) {
    let mut control = fake.control.subscribe();
    let interval = {
        let mut inner = fake.lock();
        inner.connections += 1;
        inner.heartbeat_interval_ms
    };
    if !send(&mut socket, &json!({"op": 10, "s": null, "t": null, "d": {"heartbeat_interval": interval}})).await {
        return;
    }
    let mut live = false; // identified or resumed on this connection
    let mut held: Option<Value> = None; // the shard of an IDENTIFY whose READY is withheld
    loop {
        tokio::select! {
            incoming = socket.recv() => {
                let Some(Ok(message)) = incoming else { return };
                let Message::Text(text) = message else {
                    if let Message::Close(frame) = message {
                        // Echo the close, as a real server does, then end the connection.
                        let _ = socket.send(Message::Close(frame)).await;
                        return;
                    }
                    continue;
                };
                let Ok(payload) = serde_json::from_str::<Value>(&text) else { continue };
                match payload["op"].as_u64() {
                    Some(1) => {
                        let ack = {
                            let mut inner = fake.lock();
                            inner.heartbeats += 1;
                            inner.ack_heartbeats
                        };
                        if ack && !send(&mut socket, &json!({"op": 11, "s": null, "t": null, "d": null})).await {
                            return;
                        }
                    }
                    Some(2) => {
                        let shard = payload["d"]["shard"].clone();
                        let withheld = {
                            let mut inner = fake.lock();
                            inner.identifies += 1;
                            match &mut inner.ready_budget {
                                Some(0) => true,
                                Some(budget) => {
                                    *budget -= 1;
                                    false
                                }
                                None => false,
                            }
                        };
                        if withheld {
                            held = Some(shard);
                            continue;
                        }
                        live = true;
                        if !send(&mut socket, &fake.ready(&shard)).await { return }
                    }
                    Some(6) => {
                        let session = payload["d"]["session_id"].as_str().unwrap_or_default().to_owned();
                        let since = payload["d"]["seq"].as_u64().unwrap_or(0);
                        let replay = {
                            let mut inner = fake.lock();
                            inner.resumes += 1;
                            if inner.session_id.as_deref() == Some(session.as_str()) {
                                let mut replay: Vec<Value> =
                                    inner.buffer.iter().filter(|(s, _)| *s > since).map(|(_, p)| p.clone()).collect();
                                inner.seq += 1;
                                let seq = inner.seq;
                                let resumed = json!({"op": 0, "t": "RESUMED", "s": seq, "d": {}});
                                inner.buffer.push((seq, resumed.clone()));
                                replay.push(resumed);
                                Some(replay)
                            } else {
                                None
                            }
                        };
                        match replay {
                            Some(replay) => {
                                live = true;
                                for payload in replay {
                                    if !send(&mut socket, &payload).await { return }
                                }
                            }
                            None => {
                                if !send(&mut socket, &json!({"op": 9, "s": null, "t": null, "d": false})).await { return }
                            }
                        }
                    }
                    _ => {}
                }
            }
            command = control.recv() => {
                let Ok(command) = command else { continue };
                match command {
                    Control::Send(seq) if live => {
                        let payload = fake.lock().buffer.iter().find(|(s, _)| *s == seq).map(|(_, p)| p.clone());
                        if let Some(payload) = payload
                            && !send(&mut socket, &payload).await
                        {
                            return;
                        }
                    }
                    Control::Send(_) => {}
                    Control::Reconnect => {
                        if !send(&mut socket, &json!({"op": 7, "s": null, "t": null, "d": null})).await { return }
                    }
                    Control::InvalidSession(resumable) => {
                        if !resumable {
                            fake.lock().session_id = None;
                        }
                        if !send(&mut socket, &json!({"op": 9, "s": null, "t": null, "d": resumable})).await { return }
                    }
                    Control::Close(code) => {
                        let frame = CloseFrame { code, reason: "fake close".into() };
                        let _ = socket.send(Message::Close(Some(frame))).await;
                        return;
                    }
                    Control::ReleaseReady => {
                        if let Some(shard) = held.take() {
                            live = true;
                            if !send(&mut socket, &fake.ready(&shard)).await { return }
                        }
                    }
                    Control::Drop => return,
                    Control::Burst => {
                        use futures_util::SinkExt;
                        let frames = std::mem::take(&mut fake.lock().burst);
                        for (i, frame) in frames.into_iter().enumerate() {
                            if socket.feed(Message::Text(frame.into())).await.is_err() { return }
                            if i % 256 == 255 && socket.flush().await.is_err() { return }
                        }
                        if socket.flush().await.is_err() { return }
                    }
                }
            }
        }
    }
}

impl FakeGateway {
    /// Starts a new session: READY (for `shard`, as the IDENTIFY sent it) opens the replay buffer.
    fn ready(&self, shard: &Value) -> Value {
        let mut inner = self.lock();
        let session = format!("session-{}", inner.identifies);
        inner.session_id = Some(session.clone());
        inner.buffer.clear();
        inner.seq += 1;
        let seq = inner.seq;
        let d = ready_payload(&session, &self.url, shard);
        let ready = json!({"op": 0, "t": "READY", "s": seq, "d": d});
        inner.buffer.push((seq, ready.clone()));
        ready
    }
}

fn ready_payload(session: &str, url: &str, shard: &Value) -> Value {
    let shard = if shard.is_array() { shard.clone() } else { json!([0, 1]) };
    json!({
        "v": 10,
        "user": {"id": BOT_USER_ID.to_string(), "username": "steward", "discriminator": "0", "global_name": "Steward",
                 "avatar": null, "bot": true, "mfa_enabled": false, "verified": true, "flags": 0},
        "guilds": [{"id": "1200000000000000000", "unavailable": true}],
        "session_id": session,
        "resume_gateway_url": url,
        "shard": shard,
        "application": {"id": crate::spawn::APP_ID.to_string(), "flags": 0}
    })
}

/// What a fake member's message looks like.
#[derive(Debug, Clone)]
pub struct MessageSpec<'a> {
    pub id: u64,
    pub guild: u64,
    pub channel: u64,
    pub author: u64,
    pub author_name: &'a str,
    pub author_is_bot: bool,
    pub content: &'a str,
    pub mentions_bot: bool,
    /// The id of a bot message this one replies to.
    pub reply_to_bot: Option<u64>,
    /// The author's roles (Discord sends them in `member.roles`).
    pub roles: &'a [u64],
}

impl Default for MessageSpec<'_> {
    fn default() -> Self {
        Self {
            id: 1,
            guild: 1_200_000_000_000_000_000,
            channel: 1_210_000_000_000_000_000,
            author: 1_220_000_000_000_000_000,
            author_name: "ana",
            author_is_bot: false,
            content: "hello",
            mentions_bot: false,
            reply_to_bot: None,
            roles: &[],
        }
    }
}

fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "global_name": null, "discriminator": "0", "avatar": null,
           "bot": bot, "public_flags": 0})
}

/// A MESSAGE_CREATE payload as Discord sends it.
#[must_use]
pub fn message_create(spec: MessageSpec<'_>) -> Value {
    let mentions = if spec.mentions_bot { vec![user(BOT_USER_ID, "steward", true)] } else { vec![] };
    let content = if spec.mentions_bot && !spec.content.contains(&BOT_USER_ID.to_string()) {
        format!("<@{BOT_USER_ID}> {}", spec.content)
    } else {
        spec.content.to_owned()
    };
    let mut message = json!({
        "id": spec.id.to_string(),
        "channel_id": spec.channel.to_string(),
        "guild_id": spec.guild.to_string(),
        "author": user(spec.author, spec.author_name, spec.author_is_bot),
        "member": {"roles": spec.roles.iter().map(ToString::to_string).collect::<Vec<_>>(), "joined_at": "2026-01-01T00:00:00.000000+00:00", "deaf": false, "mute": false,
                   "flags": 0, "nick": null},
        "content": content,
        "timestamp": "2026-11-21T12:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": mentions,
        "mention_roles": [],
        "attachments": [],
        "embeds": [],
        "pinned": false,
        "type": if spec.reply_to_bot.is_some() { 19 } else { 0 },
        "flags": 0,
        "components": []
    });
    if let Some(replied) = spec.reply_to_bot {
        let referenced = json!({
            "id": replied.to_string(), "channel_id": spec.channel.to_string(),
            "author": user(BOT_USER_ID, "steward", true), "content": "an earlier answer",
            "timestamp": "2026-11-21T11:59:00.000000+00:00", "edited_timestamp": null, "tts": false,
            "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [], "embeds": [],
            "pinned": false, "type": 0, "flags": 0, "components": []
        });
        message["message_reference"] = json!({"type": 0, "message_id": replied.to_string(), "channel_id": spec.channel.to_string(), "guild_id": spec.guild.to_string()});
        message["referenced_message"] = referenced;
    }
    message
}

/// A GUILD_CREATE payload: `guild` (owner and roles, as `GET /guilds/{g}` shows them) with text
/// `channels` (id, name) and `threads` (id, name, parent id).
#[must_use]
pub fn guild_create(
    guild: &steward_domain::moderation::hierarchy::GuildRoles,
    channels: &[(u64, &str)],
    threads: &[(u64, &str, u64)],
) -> Value {
    let guild_id = guild.guild.to_string();
    let mut payload = crate::fake_discord::guild(guild);
    let channel = |id: u64, name: &str, kind: u8, parent: Option<u64>| {
        json!({"id": id.to_string(), "type": kind, "guild_id": guild_id, "name": name, "position": 0,
               "permission_overwrites": [], "parent_id": parent.map(|p| p.to_string()), "nsfw": false})
    };
    payload["channels"] = channels.iter().map(|(id, name)| channel(*id, name, 0, None)).collect();
    payload["threads"] = threads.iter().map(|(id, name, parent)| channel(*id, name, 11, Some(*parent))).collect();
    payload["joined_at"] = json!("2026-01-01T00:00:00.000000+00:00");
    payload["large"] = json!(false);
    payload["member_count"] = json!(3);
    payload["members"] = json!([]);
    payload["voice_states"] = json!([]);
    payload["presences"] = json!([]);
    payload["stage_instances"] = json!([]);
    payload["guild_scheduled_events"] = json!([]);
    payload["unavailable"] = json!(false);
    payload
}
