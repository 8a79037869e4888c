//! Test support: fakes of every outside peer on 127.0.0.1 and a `spawn_app()` helper.
//!
//! Nothing here reaches the network beyond loopback.

#![allow(clippy::unwrap_used, clippy::missing_panics_doc, missing_docs)]

pub mod fake_discord;
pub mod fake_gateway;
pub mod fake_llm;
pub mod openapi;
pub mod signer;
pub mod spawn;

pub use fake_discord::FakeDiscord;
pub use fake_gateway::{FakeGateway, MessageSpec, message_create};
pub use fake_llm::{FakeLlm, LlmBehaviour};
pub use signer::Signer;

/// Serves `router` on a free loopback port in the background; returns its address.
pub async fn serve(router: axum::Router) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}
pub use spawn::{SpawnOptions, TestApp, ask_body, spawn_app, spawn_app_with};
