//! systemd integration: `READY=1` once connected, `WATCHDOG=1` while the runtime is alive,
//! `STOPPING=1` on shutdown. Each is a no-op outside systemd.

use std::sync::Once;
use std::time::Duration;

use sd_notify::NotifyState;

static READY: Once = Once::new();

/// Tells systemd the service is up (first gateway session).
pub fn ready() {
    READY.call_once(|| {
        let _ = sd_notify::notify(false, &[NotifyState::Ready]);
    });
}

/// Tells systemd the service is stopping.
pub fn stopping() {
    let _ = sd_notify::notify(false, &[NotifyState::Stopping]);
}

/// Pings the watchdog at half its interval for as long as the runtime runs tasks.
pub fn spawn_watchdog() {
    let mut usec = 0;
    if sd_notify::watchdog_enabled(false, &mut usec) && usec > 0 {
        let every = Duration::from_micros(usec / 2);
        tokio::spawn(async move {
            loop {
                let _ = sd_notify::notify(false, &[NotifyState::Watchdog]);
                tokio::time::sleep(every).await;
            }
        });
    }
}
