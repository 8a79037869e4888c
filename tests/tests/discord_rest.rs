//! The Discord REST adapter against the fake Discord: commands, no pings, 429 and 401 handling.

#![allow(clippy::unwrap_used, missing_docs)]

use serde_json::json;
use steward_discord::{RestConfig, TwilightRest};
use steward_domain::ids::{ApplicationId, ChannelId, GuildId, InteractionToken, MessageId};
use steward_domain::message::{OutboundMessage, ReplyKind};
use steward_domain::ports::{DiscordErrorKind, DiscordRest};
use steward_tests::FakeDiscord;

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
