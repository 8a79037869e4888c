#!/usr/bin/env bash
# Gateway throughput and peak RSS: builds the release daemon, then streams 100k MESSAGE_CREATE
# events from the fake gateway into it (1 and 1,000 guilds). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p gateway-daemon --bin steward
cargo bench --locked -p steward-tests --bench gateway
