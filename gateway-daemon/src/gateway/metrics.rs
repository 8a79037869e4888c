//! The daemon's counters, exported in Prometheus' text format on `/metrics`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use steward_domain::relay::DropReason;

/// Upper bounds (seconds) of the forward-latency histogram buckets.
const BUCKETS: [f64; 9] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.5];

/// Every counter the daemon exports.
#[derive(Debug, Default)]
pub struct Metrics {
    /// MESSAGE_CREATE events received.
    pub received: AtomicU64,
    /// Events handed on (bus or spool).
    pub forwarded: AtomicU64,
    dropped: [AtomicU64; DropReason::ALL.len()],
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_micros: AtomicU64,
    /// Gateway connections after the first (resumes and re-identifies).
    pub reconnects: AtomicU64,
    /// Events waiting in the disk spool.
    pub spooled: AtomicU64,
    /// Shards with an active session.
    pub shards_ready: AtomicU64,
    /// Shards the gateway runs (Discord's recommendation or `STEWARD_SHARDS`); 0 until known.
    pub shards_total: AtomicU64,
}

impl Metrics {
    /// Counts a dropped message.
    pub fn dropped(&self, reason: DropReason) {
        let index = DropReason::ALL.iter().position(|r| *r == reason).unwrap_or(0);
        self.dropped[index].fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long one hand-off (a batch) took.
    pub fn observe_forward(&self, took: Duration) {
        let seconds = took.as_secs_f64();
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS) {
            if seconds <= bound {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros.fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Ordering::Relaxed);
    }

    /// The Prometheus text exposition of every metric.
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::new();
        let single = |out: &mut String, kind: &str, name: &str, help: &str, value: &AtomicU64| {
            let value = value.load(Ordering::Relaxed);
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        let counter =
            |out: &mut String, name: &str, help: &str, value: &AtomicU64| single(out, "counter", name, help, value);
        let gauge =
            |out: &mut String, name: &str, help: &str, value: &AtomicU64| single(out, "gauge", name, help, value);
        counter(&mut out, "steward_gateway_events_received_total", "MESSAGE_CREATE events received.", &self.received);
        counter(&mut out, "steward_gateway_events_forwarded_total", "Events handed on to the worker.", &self.forwarded);
        let _ = writeln!(out, "# HELP steward_gateway_events_dropped_total Events no feature needs, by reason.");
        let _ = writeln!(out, "# TYPE steward_gateway_events_dropped_total counter");
        for (reason, count) in DropReason::ALL.iter().zip(&self.dropped) {
            let _ = writeln!(
                out,
                "steward_gateway_events_dropped_total{{reason=\"{}\"}} {}",
                reason.label(),
                count.load(Ordering::Relaxed)
            );
        }
        counter(
            &mut out,
            "steward_gateway_reconnects_total",
            "Gateway reconnections (resumes and re-identifies).",
            &self.reconnects,
        );
        let _ = writeln!(out, "# HELP steward_gateway_forward_latency_seconds Time to hand on one batch.");
        let _ = writeln!(out, "# TYPE steward_gateway_forward_latency_seconds histogram");
        for (bound, bucket) in BUCKETS.iter().zip(&self.latency_buckets) {
            let _ = writeln!(
                out,
                "steward_gateway_forward_latency_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "steward_gateway_forward_latency_seconds_bucket{{le=\"+Inf\"}} {count}");
        #[allow(clippy::cast_precision_loss)]
        let sum = self.latency_sum_micros.load(Ordering::Relaxed) as f64 / 1e6;
        let _ = writeln!(out, "steward_gateway_forward_latency_seconds_sum {sum}");
        let _ = writeln!(out, "steward_gateway_forward_latency_seconds_count {count}");
        gauge(&mut out, "steward_gateway_spooled_events", "Events waiting in the disk spool.", &self.spooled);
        gauge(&mut out, "steward_gateway_shards_ready", "Shards with an active session.", &self.shards_ready);
        gauge(&mut out, "steward_gateway_shards_total", "Shards the gateway runs (0 until known).", &self.shards_total);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_labels_and_a_cumulative_histogram() {
        let metrics = Metrics::default();
        metrics.received.fetch_add(3, Ordering::Relaxed);
        metrics.dropped(DropReason::Bot);
        metrics.observe_forward(Duration::from_millis(3));
        let text = metrics.render();
        assert!(text.contains("steward_gateway_events_received_total 3\n"));
        assert!(text.contains("steward_gateway_events_dropped_total{reason=\"bot\"} 1\n"));
        assert!(text.contains("steward_gateway_events_dropped_total{reason=\"webhook\"} 0\n"));
        assert!(text.contains("steward_gateway_forward_latency_seconds_bucket{le=\"0.0025\"} 0\n"));
        assert!(text.contains("steward_gateway_forward_latency_seconds_bucket{le=\"0.005\"} 1\n"));
        assert!(text.contains("steward_gateway_forward_latency_seconds_bucket{le=\"+Inf\"} 1\n"));
        metrics.shards_total.store(2, Ordering::Relaxed);
        assert!(
            metrics.render().contains("# TYPE steward_gateway_shards_total gauge\nsteward_gateway_shards_total 2\n")
        );
    }
}
