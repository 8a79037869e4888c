#!/usr/bin/env bash
# Gateway throughput and peak RSS: builds the release daemon, then streams 100k MESSAGE_CREATE
# events from the fake gateway into it (1 and 1,000 guilds). Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --locked -p gateway-daemon --bin steward
# The side-by-side comparison with discord.py (from PyPI) runs when it can be installed.
if [ -z "${STEWARD_BENCH_PYTHON:-}" ]; then
  if [ ! -x .venv-bench/bin/python ] || ! .venv-bench/bin/python -c 'import discord' 2> /dev/null; then
    python3 -m venv .venv-bench && .venv-bench/bin/pip install --quiet --disable-pip-version-check 'discord.py==2.7.1' || true
  fi
  if .venv-bench/bin/python -c 'import discord' 2> /dev/null; then
    export STEWARD_BENCH_PYTHON="$PWD/.venv-bench/bin/python"
  fi
fi
cargo bench --locked -p steward-tests --bench gateway
