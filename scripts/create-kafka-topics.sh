#!/usr/bin/env bash
# Create the raw, anonymised and DLQ topics (the original demo's script, now through deid).
# Arguments go to `deid topics create`; with none, every domain's topics are created.
#   scripts/create-kafka-topics.sh                 # all domains
#   scripts/create-kafka-topics.sh --domain channel --partitions 3
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [[ -x "$ROOT/.venv/bin/deid" ]]; then deid=("$ROOT/.venv/bin/deid")
elif command -v deid >/dev/null; then deid=(deid)
else echo "error: deid is not installed; run ./scripts/test or ./scripts/demo once to set up" >&2; exit 1
fi
if [[ $# -eq 0 ]]; then set -- --all; fi
exec "${deid[@]}" topics create "$@"
