#!/usr/bin/env bash
# Architecture invariants, checked on the real dependency graph (normal edges only):
#  1. the domain crate links no cloud, Discord, HTTP-framework or Lambda crate;
#  2. each Lambda links only the SDKs its ports need.
set -euo pipefail
cd "$(dirname "$0")/../.."

fail=0
# forbid PACKAGE PATTERN WHY
forbid() {
  local package=$1 pattern=$2 why=$3 found
  found=$(cargo tree --locked -p "$package" -e normal --prefix none --format '{p}' | awk '{print $1}' | sort -u | grep -E "$pattern" || true)
  if [ -n "$found" ]; then
    echo "architecture: $package must not depend on $why, but links:" >&2
    echo "$found" | sed 's/^/  /' >&2
    fail=1
  fi
}

forbid steward-domain '^(aws-|twilight-|axum|lambda_|reqwest|hyper|rusqlite|tantivy|tokio$)' 'AWS, Discord, HTTP, Lambda, storage or runtime crates'
forbid interactions '^(twilight-|reqwest|tantivy|rusqlite|aws-sdk-sqs)' 'Discord REST, the model client, search or SQLite (it only verifies, checks and publishes)'
# The settings API links the OpenAI-compatible client (embeddings of added documents, the moderation
# sandbox) and Discord REST (moderation undo and health), never the gateway, search, SQLite or EventBridge.
forbid settings-api '^(twilight-gateway|tantivy|rusqlite|aws-sdk-eventbridge)' 'the gateway, search, SQLite or EventBridge'
forbid worker '^(axum|rusqlite|aws-sdk-eventbridge$)' 'axum, SQLite or the EventBridge SDK (it receives events, it does not publish)'

if [ "$fail" -ne 0 ]; then
  exit 1
fi
echo "architecture: ok (domain is pure; each Lambda links only what its ports need)"
