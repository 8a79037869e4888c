//! A Discord that records calls and fails on request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use super::lock;
use crate::ids::{ApplicationId, ChannelId, GuildId, InteractionToken, MessageId};
use crate::message::OutboundMessage;
use crate::ports::{DiscordError, DiscordErrorKind, DiscordRest};

/// A Discord call the fake recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscordCall {
    /// `edit_original`.
    EditOriginal(OutboundMessage),
    /// `create_followup`.
    Followup(OutboundMessage),
    /// `register_commands`.
    Register(Option<GuildId>),
    /// `create_message`.
    Message(ChannelId, OutboundMessage),
    /// `trigger_typing`.
    Typing(ChannelId),
    /// `react`: the message and the emoji.
    React(MessageId, String),
}

/// A Discord that records successful calls; [`RecordingDiscord::fail`] makes one method fail.
/// Messages with a nonce already posted are not posted again, as Discord does with `enforce_nonce`.
#[derive(Debug, Default, Clone)]
pub struct RecordingDiscord {
    calls: Arc<Mutex<Vec<DiscordCall>>>,
    failing: Arc<Mutex<HashMap<&'static str, DiscordErrorKind>>>,
}

impl RecordingDiscord {
    /// Every successful call so far.
    #[must_use]
    pub fn calls(&self) -> Vec<DiscordCall> {
        lock(&self.calls).clone()
    }

    /// Makes every later call of `method` (the port's method name, e.g. `create_message`) fail.
    pub fn fail(&self, method: &'static str, kind: DiscordErrorKind) {
        lock(&self.failing).insert(method, kind);
    }

    /// Lets every method succeed again.
    pub fn heal(&self) {
        lock(&self.failing).clear();
    }

    fn record(&self, method: &'static str, call: DiscordCall) -> Result<usize, DiscordError> {
        if let Some(kind) = lock(&self.failing).get(method).copied() {
            return Err(DiscordError { kind, operation: method, source: None });
        }
        let mut calls = lock(&self.calls);
        calls.push(call);
        Ok(calls.len())
    }
}

#[async_trait]
impl DiscordRest for RecordingDiscord {
    async fn edit_original(
        &self,
        _: ApplicationId,
        _: &InteractionToken,
        message: &OutboundMessage,
    ) -> Result<(), DiscordError> {
        self.record("edit_original", DiscordCall::EditOriginal(message.clone())).map(drop)
    }

    async fn create_followup(
        &self,
        _: ApplicationId,
        _: &InteractionToken,
        message: &OutboundMessage,
    ) -> Result<(), DiscordError> {
        self.record("create_followup", DiscordCall::Followup(message.clone())).map(drop)
    }

    async fn create_message(&self, channel: ChannelId, message: &OutboundMessage) -> Result<MessageId, DiscordError> {
        // Like Discord with `enforce_nonce`: a nonce seen before returns the earlier message.
        let earlier = message.nonce.as_ref().and_then(|nonce| {
            lock(&self.calls)
                .iter()
                .position(|call| matches!(call, DiscordCall::Message(_, m) if m.nonce.as_ref() == Some(nonce)))
        });
        let index = match earlier {
            Some(index) => index + 1,
            None => self.record("create_message", DiscordCall::Message(channel, message.clone()))?,
        };
        Ok(MessageId::new(1_000 + index as u64).unwrap_or_else(|_| unreachable!("non-zero")))
    }

    async fn react(&self, _: ChannelId, message: MessageId, emoji: &str) -> Result<(), DiscordError> {
        self.record("react", DiscordCall::React(message, emoji.to_owned())).map(drop)
    }

    async fn trigger_typing(&self, channel: ChannelId) -> Result<(), DiscordError> {
        self.record("trigger_typing", DiscordCall::Typing(channel)).map(drop)
    }

    async fn register_commands(&self, _: ApplicationId, guild: Option<GuildId>) -> Result<usize, DiscordError> {
        self.record("register_commands", DiscordCall::Register(guild)).map(|_| 1)
    }
}
