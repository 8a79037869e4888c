//! The Discord REST adapter against the fake Discord: commands, no pings, 429 and 401 handling,
//! and moderation's calls (routes, audit-log reasons, Discord's error codes, the OpenAPI shapes).

#![allow(clippy::unwrap_used, missing_docs)]

use serde_json::json;
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::clock::Timestamp;
use steward_domain::ids::{ApplicationId, ChannelId, GuildId, InteractionToken, MessageId, RoleId, UserId};
use steward_domain::message::{OutboundMessage, ReplyKind};
use steward_domain::moderation::hierarchy::{GuildRoles, Permissions, Role};
use steward_domain::ports::{DiscordErrorKind, DiscordRest, ModerationRest, codes};
use steward_tests::FakeDiscord;
use steward_tests::fake_discord::{DM_CHANNEL_ID, Recorded};
use steward_tests::openapi::Spec;

fn rest(discord: &FakeDiscord) -> TwilightRest {
    TwilightRest::new(&RestConfig::bot(&discord.base, Some("fake-bot-token".to_owned().into()))).unwrap()
}

fn app() -> ApplicationId {
    ApplicationId::new(1_300_000_000_000_000_000).unwrap()
}

#[tokio::test]
async fn registers_ask_for_one_guild_with_the_bot_token() {
    let discord = FakeDiscord::start().await;
    let count = rest(&discord).register_commands(app(), Some(GuildId::new(42).unwrap())).await.unwrap();
    assert_eq!(count, 1);
    let requests = discord.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "PUT");
    assert_eq!(requests[0].path, "/api/v10/applications/1300000000000000000/guilds/42/commands");
    assert_eq!(requests[0].headers["authorization"], "Bot fake-bot-token");
    let ask = &requests[0].body[0];
    assert_eq!(ask["name"], "ask");
    assert_eq!(ask["type"], 1);
    assert_eq!(ask["contexts"], json!([0]));
    let option = &ask["options"][0];
    assert_eq!(
        (option["name"].clone(), option["type"].clone(), option["required"].clone()),
        (json!("question"), json!(3), json!(true))
    );
    assert_eq!(option["max_length"], 1000);
}

#[tokio::test]
async fn registers_globally_without_a_guild() {
    let discord = FakeDiscord::start().await;
    rest(&discord).register_commands(app(), None).await.unwrap();
    assert_eq!(discord.requests()[0].path, "/api/v10/applications/1300000000000000000/commands");
}

#[tokio::test]
async fn follow_ups_ping_no_one_and_carry_the_ephemeral_flag() {
    let discord = FakeDiscord::start().await;
    let token = InteractionToken::new("tok");
    rest(&discord).create_followup(app(), &token, &OutboundMessage::ephemeral("hi @everyone")).await.unwrap();
    let request = &discord.requests()[0];
    assert_eq!(request.path, "/api/v10/webhooks/1300000000000000000/tok");
    assert_eq!(request.body["allowed_mentions"], json!({"parse": []}));
    assert_eq!(request.body["flags"], 64);
}

#[tokio::test]
async fn a_401_on_the_bot_token_stops_further_calls() {
    let discord = FakeDiscord::start().await;
    discord.fail_next(&[401]);
    let rest = rest(&discord);
    let error = rest.register_commands(app(), None).await.unwrap_err();
    assert_eq!(error.kind, DiscordErrorKind::Unauthorized);
    assert!(!error.is_retryable());
    let again = rest.register_commands(app(), None).await.unwrap_err();
    assert_eq!(again.kind, DiscordErrorKind::Unauthorized);
    assert_eq!(discord.requests().len(), 1, "no request is sent with a token Discord rejected");
}

#[tokio::test]
async fn server_errors_are_retried_and_403_is_not() {
    let discord = FakeDiscord::start().await;
    let token = InteractionToken::new("tok");
    discord.fail_next(&[502]);
    rest(&discord).edit_original(app(), &token, &OutboundMessage::text("ok")).await.unwrap();
    assert_eq!(discord.requests().len(), 2);

    discord.fail_next(&[403]);
    let error = rest(&discord).edit_original(app(), &token, &OutboundMessage::text("no")).await.unwrap_err();
    assert_eq!(error.kind, DiscordErrorKind::Forbidden);
    assert_eq!(discord.requests().len(), 3);
}

#[tokio::test]
async fn rate_limits_are_waited_out_but_never_past_the_deadline() {
    let discord = FakeDiscord::start().await;
    discord.rate_limit_next(3);
    let token = InteractionToken::new("t");
    rest(&discord).edit_original(app(), &token, &OutboundMessage::text("x")).await.unwrap();
    assert_eq!(discord.requests().len(), 4, "three 429s, then success");

    discord.rate_limit_next(10_000);
    let config =
        RestConfig { deadline: std::time::Duration::from_millis(700), ..RestConfig::new(discord.base.clone()) };
    let started = std::time::Instant::now();
    let error = TwilightRest::new(&config)
        .unwrap()
        .edit_original(app(), &token, &OutboundMessage::text("x"))
        .await
        .unwrap_err();
    assert_eq!(error.kind, DiscordErrorKind::RateLimited);
    assert!(error.is_retryable());
    assert!(started.elapsed() < std::time::Duration::from_secs(3));
}

#[tokio::test]
async fn replies_ping_only_the_member_and_are_created_once_per_nonce() {
    let discord = FakeDiscord::start().await;
    let rest = rest(&discord);
    let channel = ChannelId::new(1_210_000_000_000_000_000).unwrap();
    let reply = OutboundMessage::reply(MessageId::new(501).unwrap(), ReplyKind::Answer, 0, "hi @everyone <@&9>");
    let first = rest.create_message(channel, &reply).await.unwrap();
    let again = rest.create_message(channel, &reply).await.unwrap();
    assert_eq!(first, again, "Discord returns the earlier message for a repeated nonce");
    let requests = discord.requests();
    assert_eq!(requests.len(), 1, "one message created");
    assert_eq!(discord.deduplicated(), 1);
    let body = &requests[0].body;
    assert_eq!(requests[0].path, "/api/v10/channels/1210000000000000000/messages");
    assert_eq!(body["allowed_mentions"], json!({"parse": [], "replied_user": true}));
    assert_eq!(body["message_reference"], json!({"message_id": "501", "fail_if_not_exists": false}));
    assert_eq!(body["enforce_nonce"], true);
    assert_eq!(body["nonce"], reply.nonce.clone().unwrap());
    let plain = rest.create_message(channel, &OutboundMessage::text("hello")).await;
    assert!(plain.is_ok());
    let body = &discord.requests()[1].body;
    assert_eq!(body["allowed_mentions"], json!({"parse": []}));
    assert!(
        body.get("nonce").is_none() && body.get("enforce_nonce").is_none() && body.get("message_reference").is_none()
    );
}

#[tokio::test]
async fn reactions_use_discords_route_for_the_bot() {
    let discord = FakeDiscord::start().await;
    let channel = ChannelId::new(7).unwrap();
    rest(&discord).react(channel, MessageId::new(8).unwrap(), "⏳").await.unwrap();
    let request = &discord.requests()[0];
    assert_eq!(request.method, "PUT");
    assert_eq!(request.path, "/api/v10/channels/7/messages/8/reactions/%E2%8F%B3/@me");
}

const GUILD: u64 = 42;
const MEMBER: u64 = 777;

fn guild() -> GuildId {
    GuildId::new(GUILD).unwrap()
}

fn member() -> UserId {
    UserId::new(MEMBER).unwrap()
}

/// The `X-Audit-Log-Reason` a request carried, if any.
fn reason_header(request: &Recorded) -> Option<&str> {
    request.headers.get("x-audit-log-reason").map(|value| value.to_str().unwrap())
}

/// Percent-decodes a header value (the test's own decoder, not the adapter's encoder).
fn percent_decode(encoded: &str) -> String {
    let mut bytes = Vec::new();
    let mut rest = encoded.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'%' {
            bytes.push(u8::from_str_radix(std::str::from_utf8(&tail[..2]).unwrap(), 16).unwrap());
            rest = &tail[2..];
        } else {
            bytes.push(first);
            rest = tail;
        }
    }
    String::from_utf8(bytes).unwrap()
}

fn roles() -> GuildRoles {
    let role = |id, position, permissions: u64| Role {
        id: RoleId::new(id).unwrap(),
        position,
        permissions: Permissions(permissions),
    };
    GuildRoles {
        guild: guild(),
        owner: UserId::new(99).unwrap(),
        roles: vec![
            role(GUILD, 0, Permissions::SEND_MESSAGES.0),
            role(500, 5, Permissions::MANAGE_MESSAGES.0 | Permissions::BAN_MEMBERS.0 | Permissions::MODERATE_MEMBERS.0),
            role(600, 9, Permissions::ADMINISTRATOR.0),
            // Bits above 2^53 survive: Discord sends permissions as a decimal string.
            role(700, 2, (1 << 60) | Permissions::KICK_MEMBERS.0),
        ],
    }
}

#[tokio::test]
async fn member_actions_hit_discords_routes_with_the_encoded_reason_and_body() {
    let discord = FakeDiscord::start().await;
    let rest = rest(&discord);
    let reason = "Case #12: R1 (spam) — ñ";
    let encoded = "Case%20%2312%3A%20R1%20%28spam%29%20%E2%80%94%20%C3%B1";
    let until = Timestamp::from_secs(1_800_000_000);
    rest.delete_message(ChannelId::new(7).unwrap(), MessageId::new(8).unwrap(), reason).await.unwrap();
    rest.timeout_member(guild(), member(), Some(until), reason).await.unwrap();
    rest.timeout_member(guild(), member(), None, reason).await.unwrap();
    rest.kick_member(guild(), member(), reason).await.unwrap();
    rest.ban_member(guild(), member(), 3_600, reason).await.unwrap();
    rest.ban_member(guild(), member(), 30 * 86_400, reason).await.unwrap();
    rest.unban_member(guild(), member(), reason).await.unwrap();

    let seen: Vec<_> =
        discord.requests().iter().map(|r| (r.method.to_string(), r.path.clone(), r.body.clone())).collect();
    let member_path = format!("/api/v10/guilds/{GUILD}/members/{MEMBER}");
    let ban_path = format!("/api/v10/guilds/{GUILD}/bans/{MEMBER}");
    let expected = vec![
        ("DELETE".to_owned(), "/api/v10/channels/7/messages/8".to_owned(), json!(null)),
        ("PATCH".to_owned(), member_path.clone(), json!({"communication_disabled_until": "2027-01-15T08:00:00Z"})),
        ("PATCH".to_owned(), member_path.clone(), json!({"communication_disabled_until": null})),
        ("DELETE".to_owned(), member_path, json!(null)),
        ("PUT".to_owned(), ban_path.clone(), json!({"delete_message_seconds": 3_600})),
        ("PUT".to_owned(), ban_path.clone(), json!({"delete_message_seconds": 604_800})),
        ("DELETE".to_owned(), ban_path, json!({})),
    ];
    assert_eq!(seen, expected);
    for request in discord.requests() {
        assert_eq!(reason_header(&request), Some(encoded), "{} {}", request.method, request.path);
        assert_eq!(request.headers["authorization"], "Bot fake-bot-token");
    }
    assert_eq!(percent_decode(encoded), reason);
}

#[tokio::test]
async fn a_dm_opens_a_channel_then_posts_pinging_no_one() {
    let discord = FakeDiscord::start().await;
    let warning = OutboundMessage { ping: Some(member()), ..OutboundMessage::text("<@777> please read the rules") };
    rest(&discord).send_dm(member(), &warning).await.unwrap();
    let requests = discord.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!((requests[0].method.as_str(), requests[0].path.as_str()), ("POST", "/api/v10/users/@me/channels"));
    assert_eq!(requests[0].body, json!({"recipient_id": "777"}));
    assert_eq!(requests[1].method, "POST");
    assert_eq!(requests[1].path, format!("/api/v10/channels/{DM_CHANNEL_ID}/messages"));
    assert_eq!(requests[1].body["content"], "<@777> please read the rules");
    assert_eq!(requests[1].body["allowed_mentions"], json!({"parse": []}));
    assert!(requests.iter().all(|r| reason_header(r).is_none()), "a DM is not an audited action");
}

#[tokio::test]
async fn guild_and_member_roles_are_read_for_the_hierarchy_checks() {
    let discord = FakeDiscord::start().await;
    let rest = rest(&discord);
    discord.set_guild(&roles());
    discord.set_member_roles(member(), &[RoleId::new(500).unwrap(), RoleId::new(700).unwrap()]);
    assert_eq!(rest.guild_roles(guild()).await.unwrap(), roles());
    assert_eq!(
        rest.member_roles(guild(), member()).await.unwrap(),
        vec![RoleId::new(500).unwrap(), RoleId::new(700).unwrap()]
    );
    assert_eq!(rest.member_roles(guild(), UserId::new(5).unwrap()).await.unwrap(), vec![], "@everyone only");
    let paths: Vec<_> = discord.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(
        paths,
        [
            format!("GET /api/v10/guilds/{GUILD}"),
            format!("GET /api/v10/guilds/{GUILD}/members/{MEMBER}"),
            format!("GET /api/v10/guilds/{GUILD}/members/5"),
        ]
    );
    let unknown = rest.guild_roles(GuildId::new(43).unwrap()).await.unwrap_err();
    assert_eq!((unknown.kind, unknown.code), (DiscordErrorKind::NotFound, Some(10_004)));
}

#[tokio::test]
async fn invites_resolve_to_their_guild_and_unknown_ones_to_none() {
    let discord = FakeDiscord::start().await;
    let rest = rest(&discord);
    discord.set_invite("steward", guild());
    assert_eq!(rest.invite_guild("steward").await.unwrap(), Some(guild()));
    assert_eq!(rest.invite_guild("expired").await.unwrap(), None, "404 Unknown Invite");
    assert_eq!(rest.invite_guild("../guilds/42").await.unwrap(), None, "not an invite code: not looked up");
    let paths: Vec<_> = discord.requests().iter().map(|r| format!("{} {}", r.method, r.path)).collect();
    assert_eq!(paths, ["GET /api/v10/invites/steward", "GET /api/v10/invites/expired"]);
    discord.fail_route("GET", "/invites/", 500, 0);
    assert_eq!(rest.invite_guild("steward").await.unwrap_err().kind, DiscordErrorKind::Unavailable);
}

#[tokio::test]
async fn missing_permissions_are_forbidden_with_the_code_and_never_retried() {
    let discord = FakeDiscord::start().await;
    discord.fail_route("PUT", "/bans/", 403, codes::MISSING_PERMISSIONS);
    let error = rest(&discord).ban_member(guild(), member(), 0, "Case #1: R1").await.unwrap_err();
    assert_eq!(error.kind, DiscordErrorKind::Forbidden);
    assert_eq!(error.code, Some(codes::MISSING_PERMISSIONS));
    assert!(!error.is_retryable());
    assert_eq!(discord.requests().len(), 1, "one request: a 403 is not retried");
    assert_eq!(discord.requests()[0].status, 403);
}

#[tokio::test]
async fn an_already_deleted_message_is_not_found_with_its_code() {
    let discord = FakeDiscord::start().await;
    discord.fail_route("DELETE", "/messages/", 404, codes::UNKNOWN_MESSAGE);
    let rest = rest(&discord);
    let error = rest.delete_message(ChannelId::new(7).unwrap(), MessageId::new(8).unwrap(), "r").await.unwrap_err();
    assert_eq!((error.kind, error.code), (DiscordErrorKind::NotFound, Some(codes::UNKNOWN_MESSAGE)));
    assert_eq!(discord.requests().len(), 1);
    discord.clear_route_failures();
    rest.delete_message(ChannelId::new(7).unwrap(), MessageId::new(8).unwrap(), "r").await.unwrap();
}

#[tokio::test]
async fn a_long_multibyte_reason_is_cut_to_512_encoded_bytes_on_a_character_boundary() {
    let discord = FakeDiscord::start().await;
    // 300 characters, 700 bytes of UTF-8, 2,100 bytes percent-encoded.
    let reason = "Case #3: R2 — ".to_owned() + &"żółw🦀 ".repeat(40);
    rest(&discord).kick_member(guild(), member(), &reason).await.unwrap();
    let header = reason_header(&discord.requests()[0]).unwrap().to_owned();
    assert!(header.len() <= 512, "{} bytes", header.len());
    assert!(header.len() > 490, "cut no shorter than needed: {} bytes", header.len());
    let decoded = percent_decode(&header);
    let kept = decoded.strip_suffix('…').expect("a cut reason ends with …");
    assert!(reason.starts_with(kept), "{decoded}");
}

#[tokio::test]
async fn a_ping_mentions_only_that_member() {
    let discord = FakeDiscord::start().await;
    let rest = rest(&discord);
    let channel = ChannelId::new(7).unwrap();
    let warning = OutboundMessage { ping: Some(member()), ..OutboundMessage::text("<@777> @everyone <@&500> <@5>") };
    rest.create_message(channel, &warning).await.unwrap();
    let reply = OutboundMessage { ping: Some(member()), ..OutboundMessage::text("<@777> read the rules") };
    let reply = OutboundMessage { reply_to: Some(MessageId::new(8).unwrap()), ..reply };
    rest.create_message(channel, &reply).await.unwrap();
    let requests = discord.requests();
    assert_eq!(requests[0].body["allowed_mentions"], json!({"parse": [], "users": ["777"]}));
    assert_eq!(requests[1].body["allowed_mentions"], json!({"parse": [], "users": ["777"], "replied_user": true}));
}

#[tokio::test]
async fn moderation_traffic_agrees_with_discords_openapi_description() {
    let discord = FakeDiscord::start().await;
    let rest = rest(&discord);
    discord.set_guild(&roles());
    discord.set_member_roles(member(), &[RoleId::new(500).unwrap()]);
    let (channel, message) = (ChannelId::new(7).unwrap(), MessageId::new(8).unwrap());
    rest.delete_message(channel, message, "Case #1: R1").await.unwrap();
    let warning = OutboundMessage { ping: Some(member()), ..OutboundMessage::text("<@777> no spam") };
    rest.send_dm(member(), &warning).await.unwrap();
    rest.create_message(channel, &warning).await.unwrap();
    rest.create_message(channel, &OutboundMessage::reply(message, ReplyKind::Answer, 0, "answer")).await.unwrap();
    rest.timeout_member(guild(), member(), Some(Timestamp::from_millis(1_800_000_000_123)), "r").await.unwrap();
    rest.timeout_member(guild(), member(), None, "r").await.unwrap();
    rest.kick_member(guild(), member(), "r").await.unwrap();
    rest.ban_member(guild(), member(), 60, "r").await.unwrap();
    rest.unban_member(guild(), member(), "r").await.unwrap();
    rest.guild_roles(guild()).await.unwrap();
    rest.member_roles(guild(), member()).await.unwrap();
    discord.set_invite("steward", guild());
    rest.invite_guild("steward").await.unwrap();
    rest.invite_guild("expired").await.unwrap();
    // Discord's error answers too.
    rest.guild_roles(GuildId::new(43).unwrap()).await.unwrap_err();
    discord.fail_route("DELETE", "/members/", 403, codes::MISSING_PERMISSIONS);
    rest.kick_member(guild(), member(), "r").await.unwrap_err();

    let spec = Spec::discord();
    let requests = discord.requests();
    assert_eq!(requests.len(), 16);
    let errors: Vec<String> = requests.iter().flat_map(|r| spec.check(r)).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn the_openapi_check_catches_a_wrong_route_body_or_answer() {
    let spec = Spec::discord();
    let exchange = |method: &str, path: &str, body, status: u16, response| Recorded {
        method: method.parse().unwrap(),
        path: path.to_owned(),
        headers: Default::default(),
        body,
        status: status.try_into().unwrap(),
        response,
    };
    let ban = "/api/v10/guilds/1/bans/2";
    assert_eq!(
        spec.check(&exchange("PUT", ban, json!({"delete_message_seconds": 0}), 204, None)),
        Vec::<String>::new()
    );
    let wrong = [
        exchange("POST", ban, json!({}), 204, None),
        exchange("PUT", ban, json!(null), 204, None),
        exchange("PUT", ban, json!({"delete_message_seconds": 700_000}), 204, None),
        exchange("PUT", ban, json!({"delete_message_seconds": 0}), 200, Some(json!({}))),
        exchange("PUT", ban, json!({"delete_message_seconds": 0}), 403, Some(json!({"message": "no code"}))),
        exchange("GET", "/api/v10/guilds/1/members/2", json!(null), 200, Some(json!({"roles": [1]}))),
    ];
    for case in wrong {
        assert!(!spec.check(&case).is_empty(), "{} {} {} passed", case.method, case.path, case.body);
    }
}
