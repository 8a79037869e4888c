//! The run loop `steward run` and `steward gateway` share: HTTP beside the gateway until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::gateway::{self, Exit, Gateway, GatewayOptions};

/// Binds `addr`, naming the variable it came from when that fails.
///
/// # Errors
/// Returns the I/O error with `variable=addr` as context.
pub async fn bind(addr: SocketAddr, variable: &str) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.with_context(|| format!("binding {variable}={addr}"))
}

/// Serves `router` on `listener` and runs `gateway` (when given) until `shutdown` resolves or
/// the gateway ends by itself (a fatal close); then sets `stop` (for the caller's other
/// background tasks too), waits for the server, and tells systemd the service is stopping.
///
/// # Errors
/// Returns the server's I/O error, a panicked task, or the gateway's start-up failure.
pub async fn serve_with_gateway(
    listener: TcpListener,
    router: Router,
    gateway: Option<(GatewayOptions, Arc<Gateway>)>,
    stop: &watch::Sender<bool>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<Exit> {
    crate::systemd::spawn_watchdog();
    let gateway_task = gateway.map(|(options, gateway)| {
        let stopped = stop.subscribe();
        tokio::spawn(async move { gateway::run(options, gateway, stopped).await })
    });
    let mut server_stop = stop.subscribe();
    let server = tokio::spawn(async move {
        axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = server_stop.wait_for(|stop| *stop).await;
            })
            .await
    });
    let exit: anyhow::Result<Exit> = match gateway_task {
        Some(mut task) => {
            let finished = tokio::select! {
                () = shutdown => {
                    stop.send_replace(true);
                    task.await
                }
                result = &mut task => result,
            };
            finished.context("the gateway task panicked").and_then(|r| r.map_err(Into::into))
        }
        None => {
            shutdown.await;
            Ok(Exit::Shutdown)
        }
    };
    if let Ok(exit @ Exit::Fatal(_)) = &exit {
        tracing::error!(status = exit.status(), "{}", exit.advice());
    }
    // Whatever ended the gateway, the HTTP server and the caller's tasks stop too.
    stop.send_replace(true);
    crate::systemd::stopping();
    server.await.context("the HTTP server task panicked")?.context("serving HTTP")?;
    exit
}
