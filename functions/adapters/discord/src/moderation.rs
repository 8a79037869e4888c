//! Moderation's Discord calls, as raw requests so the audit-log reason is encoded and sized as Discord counts it.

use async_trait::async_trait;
use serde::Deserialize;
use serde_json::json;
use steward_domain::clock::Timestamp;
use steward_domain::ids::{ChannelId, GuildId, MessageId, RoleId, UserId};
use steward_domain::message::OutboundMessage;
use steward_domain::moderation::hierarchy::{GuildRoles, Permissions, Role};
use steward_domain::ports::{DiscordError, DiscordErrorKind, ModerationRest};
use twilight_http::request::{Request, RequestBuilder};
use twilight_http::routing::Route;

use crate::{NewMessage, TwilightRest, parse};

/// Discord's limit on `X-Audit-Log-Reason`, counted in bytes after percent-encoding.
pub const MAX_AUDIT_REASON_BYTES: usize = 512;
/// The most message history a ban may delete: 7 days.
const MAX_BAN_DELETE_SECONDS: u32 = 604_800;
/// What ends a reason that had to be cut: `…`, percent-encoded.
const ELLIPSIS: &str = "%E2%80%A6";

/// Whether `byte` stays as it is in a percent-encoded header (RFC 3986's unreserved set).
const fn unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// How many bytes `ch` takes once percent-encoded.
fn encoded_len(ch: char) -> usize {
    let mut buf = [0; 4];
    ch.encode_utf8(&mut buf).bytes().map(|b| if unreserved(b) { 1 } else { 3 }).sum()
}

/// `reason` as Discord reads `X-Audit-Log-Reason`: UTF-8, percent-encoded, at most
/// [`MAX_AUDIT_REASON_BYTES`] once encoded. A longer reason is cut on a character boundary and
/// ends with `…`, so no character is split and the header always fits.
#[must_use]
pub fn encode_audit_reason(reason: &str) -> String {
    let total: usize = reason.chars().map(encoded_len).sum();
    let budget = if total <= MAX_AUDIT_REASON_BYTES { total } else { MAX_AUDIT_REASON_BYTES - ELLIPSIS.len() };
    let mut out = String::with_capacity(total.min(MAX_AUDIT_REASON_BYTES));
    let mut buf = [0; 4];
    for ch in reason.chars() {
        if out.len() + encoded_len(ch) > budget {
            out.push_str(ELLIPSIS);
            break;
        }
        for &byte in ch.encode_utf8(&mut buf).as_bytes() {
            if unreserved(byte) {
                out.push(char::from(byte));
            } else {
                out.push_str(&format!("%{byte:02X}"));
            }
        }
    }
    out
}

/// `builder` carrying `reason` as `X-Audit-Log-Reason` (no header for an empty reason).
fn with_reason(builder: RequestBuilder, reason: &str) -> RequestBuilder {
    let encoded = encode_audit_reason(reason);
    if encoded.is_empty() {
        return builder;
    }
    match http::HeaderValue::from_str(&encoded) {
        Ok(value) => builder.headers(std::iter::once((http::HeaderName::from_static("x-audit-log-reason"), value))),
        // Unreachable: percent-encoding leaves only visible ASCII.
        Err(_) => builder,
    }
}

/// `builder` with `body` as its JSON body.
fn with_json(builder: RequestBuilder, body: &serde_json::Value) -> RequestBuilder {
    builder.body(body.to_string().into_bytes())
}

/// What `GET /guilds/{guild}` answers that the hierarchy checks read.
#[derive(Deserialize)]
struct GuildBody {
    owner_id: UserId,
    roles: Vec<RoleBody>,
}

/// A role as Discord sends it: its permissions are a decimal string of a 64-bit set.
#[derive(Deserialize)]
struct RoleBody {
    id: RoleId,
    position: i64,
    permissions: String,
}

/// What `GET /guilds/{guild}/members/{user}` answers that the hierarchy checks read.
#[derive(Deserialize)]
struct MemberBody {
    roles: Vec<RoleId>,
}

/// What `GET /invites/{code}` answers: the server a guild invite leads to (`guild_id`, or the
/// older `guild.id`); a group DM or friend invite has neither.
#[derive(Deserialize)]
struct InviteBody {
    guild_id: Option<GuildId>,
    guild: Option<InviteGuild>,
}

/// The guild an invite names.
#[derive(Deserialize)]
struct InviteGuild {
    id: GuildId,
}

/// Whether `code` can be an invite code, so text from a message cannot reach another route.
fn invite_code(code: &str) -> bool {
    !code.is_empty() && code.len() <= 64 && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A channel Discord created (`POST /users/@me/channels` answers the DM channel).
#[derive(Deserialize)]
struct ChannelBody {
    id: ChannelId,
}

#[async_trait]
impl ModerationRest for TwilightRest {
    async fn delete_message(&self, channel: ChannelId, message: MessageId, reason: &str) -> Result<(), DiscordError> {
        let route = Route::DeleteMessage { channel_id: channel.get(), message_id: message.get() };
        self.send("delete message", || with_reason(Request::builder(&route), reason)).await.map(drop)
    }

    async fn send_dm(&self, user: UserId, message: &OutboundMessage) -> Result<(), DiscordError> {
        let open = json!({ "recipient_id": user });
        let bytes = self.send("open DM", || with_json(Request::builder(&Route::CreatePrivateChannel), &open)).await?;
        let channel = parse::<ChannelBody>("open DM", &bytes)?.id;
        // A DM pings no one: the member is the only reader anyway, and there is nothing to reply to.
        let body = NewMessage {
            content: &message.content,
            allowed_mentions: self.no_pings.clone(),
            message_reference: None,
            nonce: message.nonce.as_deref(),
            enforce_nonce: message.nonce.is_some(),
        };
        self.post_message("send DM", channel, &body).await.map(drop)
    }

    async fn timeout_member(
        &self,
        guild: GuildId,
        user: UserId,
        until: Option<Timestamp>,
        reason: &str,
    ) -> Result<(), DiscordError> {
        let route = Route::UpdateMember { guild_id: guild.get(), user_id: user.get() };
        let body = json!({ "communication_disabled_until": until.map(|t| t.to_string()) });
        self.send("timeout member", || with_json(with_reason(Request::builder(&route), reason), &body)).await.map(drop)
    }

    async fn kick_member(&self, guild: GuildId, user: UserId, reason: &str) -> Result<(), DiscordError> {
        let route = Route::RemoveMember { guild_id: guild.get(), user_id: user.get() };
        self.send("kick member", || with_reason(Request::builder(&route), reason)).await.map(drop)
    }

    /// Discord deletes at most 7 days of messages; a longer window is sent as 7 days.
    async fn ban_member(
        &self,
        guild: GuildId,
        user: UserId,
        delete_message_seconds: u32,
        reason: &str,
    ) -> Result<(), DiscordError> {
        let route = Route::CreateBan { guild_id: guild.get(), user_id: user.get() };
        let body = json!({ "delete_message_seconds": delete_message_seconds.min(MAX_BAN_DELETE_SECONDS) });
        self.send("ban member", || with_json(with_reason(Request::builder(&route), reason), &body)).await.map(drop)
    }

    async fn unban_member(&self, guild: GuildId, user: UserId, reason: &str) -> Result<(), DiscordError> {
        let route = Route::DeleteBan { guild_id: guild.get(), user_id: user.get() };
        // Discord's API description marks this request's (empty) JSON body as required.
        let body = json!({});
        self.send("unban member", || with_json(with_reason(Request::builder(&route), reason), &body)).await.map(drop)
    }

    async fn guild_roles(&self, guild: GuildId) -> Result<GuildRoles, DiscordError> {
        const OPERATION: &str = "read guild roles";
        let route = Route::GetGuild { guild_id: guild.get(), with_counts: false };
        let bytes = self.send(OPERATION, || Request::builder(&route)).await?;
        let body = parse::<GuildBody>(OPERATION, &bytes)?;
        let roles = body
            .roles
            .into_iter()
            .map(|role| {
                let permissions = role.permissions.parse::<u64>().map_err(|e| {
                    DiscordError::new(DiscordErrorKind::Rejected, OPERATION)
                        .with_source(format!("role {} has permissions `{}`: {e}", role.id, role.permissions))
                })?;
                Ok(Role { id: role.id, position: role.position, permissions: Permissions(permissions) })
            })
            .collect::<Result<_, DiscordError>>()?;
        Ok(GuildRoles { guild, owner: body.owner_id, roles })
    }

    async fn member_roles(&self, guild: GuildId, user: UserId) -> Result<Vec<RoleId>, DiscordError> {
        const OPERATION: &str = "read member roles";
        let route = Route::GetMember { guild_id: guild.get(), user_id: user.get() };
        let bytes = self.send(OPERATION, || Request::builder(&route)).await?;
        parse::<MemberBody>(OPERATION, &bytes).map(|member| member.roles)
    }

    /// An unknown or expired invite (404, code 10006), or a code no invite can have, is `None`.
    async fn invite_guild(&self, code: &str) -> Result<Option<GuildId>, DiscordError> {
        const OPERATION: &str = "resolve invite";
        if !invite_code(code) {
            return Ok(None);
        }
        let route = Route::GetInvite { code, with_counts: false };
        let bytes = match self.send(OPERATION, || Request::builder(&route)).await {
            Ok(bytes) => bytes,
            Err(error) if error.kind == DiscordErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let invite = parse::<InviteBody>(OPERATION, &bytes)?;
        Ok(invite.guild_id.or(invite.guild.map(|guild| guild.id)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes a percent-encoded string (the test's own, independent of the encoder).
    fn decode(encoded: &str) -> String {
        let bytes = encoded.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%' {
                out.push(u8::from_str_radix(&encoded[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn only_invite_shaped_codes_are_looked_up() {
        assert!(invite_code("steward") && invite_code("a-B_9"));
        for code in ["", "../guilds/1", "a?b", "a/b", "a%2F", "ż", &"a".repeat(65)] {
            assert!(!invite_code(code), "{code}");
        }
    }

    #[test]
    fn reasons_are_percent_encoded_utf8() {
        assert_eq!(encode_audit_reason("Case #7: R1 spam"), "Case%20%237%3A%20R1%20spam");
        assert_eq!(encode_audit_reason("zażółć ✓"), "za%C5%BC%C3%B3%C5%82%C4%87%20%E2%9C%93");
        assert_eq!(encode_audit_reason("a-b.c_d~e\r\n"), "a-b.c_d~e%0D%0A");
        assert_eq!(encode_audit_reason(""), "");
        let reason = "Case #12 — R3: \"scam\" 🦀 (line\nbreak) 100%";
        assert_eq!(decode(&encode_audit_reason(reason)), reason);
    }

    #[test]
    fn a_reason_that_fits_exactly_is_kept_whole() {
        let reason = "a".repeat(MAX_AUDIT_REASON_BYTES);
        assert_eq!(encode_audit_reason(&reason), reason);
        // 170 two-byte characters are 1,020 encoded bytes: far over, though only 170 characters.
        let encoded = encode_audit_reason(&"é".repeat(170));
        assert!(encoded.len() <= MAX_AUDIT_REASON_BYTES && encoded.ends_with(ELLIPSIS), "{}", encoded.len());
    }

    #[test]
    fn long_multibyte_reasons_are_cut_on_a_character_boundary_within_512_encoded_bytes() {
        for unit in ["é", "✓", "🦀", "a ", "ab🦀 ", "x"] {
            for len in [100, 171, 172, 500, 513, 2_000] {
                let reason: String = unit.chars().cycle().take(len).collect();
                let encoded = encode_audit_reason(&reason);
                assert!(encoded.len() <= MAX_AUDIT_REASON_BYTES, "{unit:?}×{len}: {} bytes", encoded.len());
                let decoded = decode(&encoded);
                let kept = decoded.strip_suffix('…').unwrap_or(&decoded);
                assert!(reason.starts_with(kept), "{unit:?}×{len}: a prefix of the reason, whole characters");
                if encoded.len() < MAX_AUDIT_REASON_BYTES - 12 {
                    assert_eq!(decoded, reason, "{unit:?}×{len}: cut though it fitted");
                }
            }
        }
    }
}
