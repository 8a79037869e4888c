#!/usr/bin/env bash
# Every check and test Steward has, on a fresh machine: the README's test command.
#
# Installs what it needs (moto and cfn-lint into .venv-aws, SAM into .venv-sam, from PyPI),
# then: rustfmt, clippy, the architecture check, cfn-lint + sam validate, and every test with a
# local DynamoDB/EventBridge/SQS emulator (moto server) on a loopback port.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

step() { printf '\n==> %s\n' "$*"; }

step "Python tools (moto, cfn-lint, SAM CLI, cargo-lambda, zig)"
aws_venv="$root/.venv-aws"
if [ ! -x "$aws_venv/bin/moto_server" ] || [ ! -x "$aws_venv/bin/cfn-lint" ]; then
  python3 -m venv "$aws_venv"
  "$aws_venv/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5' 'cfn-lint==1.58.0'
fi
sam_venv="$root/.venv-sam"
if [ ! -x "$sam_venv/bin/sam" ] || [ ! -x "$sam_venv/bin/cargo-lambda" ] || [ ! -x "$sam_venv/bin/python-zig" ]; then
  python3 -m venv "$sam_venv"
  "$sam_venv/bin/pip" install --quiet --disable-pip-version-check 'aws-sam-cli==1.170.0' 'cargo-lambda==1.9.2' ziglang
fi

step "Format"
cargo fmt --all --check

step "Clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

step "Architecture"
infra/scripts/check-architecture.sh

step "SAM template"
"$aws_venv/bin/cfn-lint" template.yaml
SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1 "$sam_venv/bin/sam" validate --lint --template template.yaml

step "systemd unit"
if command -v systemd-analyze > /dev/null; then
  cargo build --locked -p gateway-daemon --bin steward
  unit_dir=$(mktemp -d)
  # verify checks that ExecStart exists: point it at the binary just built.
  sed "s|/usr/local/bin/steward|$root/target/debug/steward|" infra/systemd/steward-gateway.service \
    > "$unit_dir/steward-gateway.service"
  systemd-analyze verify "$unit_dir/steward-gateway.service"
  systemd-analyze security --offline=true --threshold=20 "$unit_dir/steward-gateway.service" | tail -n 1
  rm -rf "$unit_dir"
else
  echo "systemd-analyze is not on this machine: unit check not run"
fi

step "Local AWS emulator (moto server)"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
"$aws_venv/bin/moto_server" -H 127.0.0.1 -p "$port" > target/moto.log 2>&1 &
moto_pid=$!
trap 'kill "$moto_pid" 2>/dev/null || true' EXIT
python3 - "$port" <<'PY'
import sys, time, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/moto-api/data.json"
for _ in range(150):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.2)
sys.exit("moto server did not start; see target/moto.log")
PY
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
unset AWS_PROFILE AWS_SESSION_TOKEN

step "Tests"
if command -v cargo-nextest > /dev/null; then
  cargo nextest run --workspace --locked --no-fail-fast
else
  cargo test --workspace --locked --no-fail-fast
fi

step "sam build (release Lambda artifacts, arm64)"
if rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' || rustup target add aarch64-unknown-linux-gnu; then
  infra/scripts/sam-build.sh
else
  echo "NOT RUN: sam build needs the aarch64-unknown-linux-gnu Rust target, which rustup could not install here"
fi
