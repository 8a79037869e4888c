//! Gateway daemon throughput: the release `steward gateway` binary, pinned to one core with one
//! runtime thread, consumes 100,000 MESSAGE_CREATE events from the fake gateway (filter +
//! hand-off to a counting sink) for 1 and for 1,000 guilds. Reports events/s and peak RSS.
//!
//! `infra/scripts/bench-gateway.sh` builds the binary and runs this.

#![allow(clippy::unwrap_used, missing_docs, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use steward_tests::{FakeDiscord, FakeGateway};

const EVENTS: u64 = 100_000;

fn binary() -> PathBuf {
    let path = std::env::var_os("STEWARD_BIN")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/steward"), PathBuf::from);
    assert!(
        path.exists(),
        "{} not found: run `cargo build --release --locked -p gateway-daemon` first",
        path.display()
    );
    path
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn metric(text: &str, name: &str) -> u64 {
    text.lines().find_map(|l| l.strip_prefix(name)?.trim().parse().ok()).unwrap_or(0)
}

async fn run_once(guilds: u64) -> (f64, u64, u64) {
    let discord = FakeDiscord::start().await;
    let gateway = FakeGateway::start().await;
    discord.set_gateway_url(&gateway.url);
    let data = tempfile::tempdir().unwrap();
    let port = free_port();
    let pin = Command::new("taskset").arg("--version").output().is_ok();
    let mut command = if pin {
        let mut c = Command::new("taskset");
        c.args(["-c", "1"]).arg(binary());
        c
    } else {
        Command::new(binary())
    };
    let mut child = command
        .args(["gateway", "--count-only"])
        .env_clear()
        .env("DISCORD_BOT_TOKEN", "fake-bot-token")
        .env("DISCORD_APPLICATION_ID", steward_tests::spawn::APP_ID.to_string())
        .env("DISCORD_API_BASE", &discord.base)
        .env("DISCORD_GATEWAY_URL", &gateway.url)
        .env("STEWARD_DATA_DIR", data.path())
        .env("STEWARD_GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
        .env("TOKIO_WORKER_THREADS", "1")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let metrics_url = format!("http://127.0.0.1:{port}/metrics");
    let health = format!("http://127.0.0.1:{port}/healthz");
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(&health).send().await.map(|r| r.status() != 200).unwrap_or(true) {
        assert!(Instant::now() < deadline, "the daemon never became ready");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gateway.prepare_burst(EVENTS, guilds);
    let started = Instant::now();
    gateway.burst();
    let (received, forwarded) = loop {
        let text = client.get(&metrics_url).send().await.unwrap().text().await.unwrap();
        let received = metric(&text, "steward_gateway_events_received_total");
        if received >= EVENTS {
            break (received, metric(&text, "steward_gateway_events_forwarded_total"));
        }
        assert!(started.elapsed() < Duration::from_secs(300), "only {received} events after 300 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    let elapsed = started.elapsed();
    let rss = peak_rss_kib(child.id());
    child.kill().unwrap();
    let _ = child.wait();
    #[allow(clippy::cast_precision_loss)]
    let rate = received as f64 / elapsed.as_secs_f64();
    (rate, rss, forwarded)
}

/// The same burst into the discord.py consumer (benches/discordpy_consumer.py).
async fn run_discordpy(python: &str, guilds: u64) -> (f64, u64) {
    use tokio::io::AsyncBufReadExt;
    let discord = FakeDiscord::start().await;
    let gateway = FakeGateway::start().await;
    discord.set_gateway_url(&gateway.url);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/discordpy_consumer.py");
    let pin = Command::new("taskset").arg("--version").output().is_ok();
    let mut command = if pin {
        let mut c = tokio::process::Command::new("taskset");
        c.args(["-c", "1", python]);
        c
    } else {
        tokio::process::Command::new(python)
    };
    let mut child = command
        .arg(script)
        .env("STEWARD_FAKE_API", &discord.base)
        .env("STEWARD_FAKE_GATEWAY", &gateway.url)
        .env("EVENTS", EVENTS.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let ready = tokio::time::timeout(Duration::from_secs(60), lines.next_line()).await.unwrap().unwrap();
    assert_eq!(ready.as_deref(), Some("ready"));
    // discord.py identifies after "connect"; give it the READY before streaming.
    assert!(gateway.wait_until(Duration::from_secs(30), |g| g.identifies() == 1).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    gateway.prepare_burst(EVENTS, guilds);
    let started = Instant::now();
    gateway.burst();
    let mut rss = 0;
    let done = loop {
        tokio::select! {
            line = lines.next_line() => break line.unwrap(),
            () = tokio::time::sleep(Duration::from_millis(50)) => rss = rss.max(peak_rss_kib(pid)),
        }
    };
    let elapsed = started.elapsed();
    rss = rss.max(peak_rss_kib(pid));
    assert!(done.as_deref().is_some_and(|l| l.starts_with("done")), "{done:?}");
    let _ = child.wait().await;
    #[allow(clippy::cast_precision_loss)]
    let rate = EVENTS as f64 / elapsed.as_secs_f64();
    (rate, rss)
}

fn main() {
    // `cargo test --benches` passes --bench-less arguments; only run when benchmarking.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    println!("steward gateway --count-only, {EVENTS} MESSAGE_CREATE events, 1 core, 1 runtime thread");
    let daemon_runs: &[u64] = if std::env::var_os("STEWARD_BENCH_SKIP_DAEMON").is_some() { &[] } else { &[1, 1_000] };
    for &guilds in daemon_runs {
        let (rate, rss, forwarded) = runtime.block_on(run_once(guilds));
        println!(
            "  {guilds:>5} guild(s): {rate:>9.0} events/s, peak RSS {:.1} MiB, forwarded {forwarded} (mentions)",
            rss as f64 / 1024.0
        );
    }
    match std::env::var("STEWARD_BENCH_PYTHON") {
        Ok(python) => {
            println!("discord.py consumer (same fake stream, same core), {EVENTS} events");
            for guilds in [1, 1_000] {
                let (rate, rss) = runtime.block_on(run_discordpy(&python, guilds));
                println!("  {guilds:>5} guild(s): {rate:>9.0} events/s, peak RSS {:.1} MiB", rss as f64 / 1024.0);
            }
        }
        Err(_) => println!("(set STEWARD_BENCH_PYTHON to a python with discord.py for the side-by-side run)"),
    }
}
