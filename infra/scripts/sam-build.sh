#!/usr/bin/env bash
# Builds the Lambda functions exactly as `sam deploy` ships them (release, arm64, cargo-lambda
# with zig as the cross linker). Installs SAM, cargo-lambda and zig into .venv-sam from PyPI and
# the aarch64 Rust target with rustup if missing; runs offline once those are cached.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv=.venv-sam
if [ ! -x "$venv/bin/sam" ] || [ ! -x "$venv/bin/cargo-lambda" ] || [ ! -x "$venv/bin/python-zig" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'aws-sam-cli==1.170.0' 'cargo-lambda==1.9.2' ziglang
fi
rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$' || rustup target add aarch64-unknown-linux-gnu
export PATH="$PWD/$venv/bin:$PATH" SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
sam build --beta-features "$@"
echo "Release sizes:"
for f in .aws-sam/build/*/bootstrap; do
  printf '  %-28s %s bytes\n' "$(basename "$(dirname "$f")")" "$(stat -c %s "$f")"
done
