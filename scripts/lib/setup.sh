# Sourced by scripts/test, scripts/demo and scripts/bench: make a fresh machine ready, idempotently.
#   .venv (Python >= 3.11) with the project installed (`pip install -e .[dev]`, redone when
#   pyproject.toml changes), Apache Kafka and the Spark Kafka connector from Maven Central, and in CI the Debian packages tests need.
# Progress goes to stderr; a second run does nothing that is already done.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

say() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Debian packages the test suite needs; installed by ./scripts/test in CI (root, apt-get).
#   postgresql: the catalog's tests also run on a private PostgreSQL cluster (initdb in a temp dir).
#   chromium: the steward UI's browser tests drive Debian's chromium through Playwright (no `playwright install`).
DEID_APT_PACKAGES=(postgresql chromium ${DEID_APT_PACKAGES:-})

find_python() {
  local candidate
  for candidate in "${PYTHON:-}" python3.11 python3.12 python3.13 python3; do
    [[ -n "$candidate" ]] && command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  return 1
}

ensure_venv() {
  if [[ ! -x .venv/bin/python ]]; then
    local python
    python="$(find_python)" || die "Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)"
    say "creating .venv with $python"
    "$python" -m venv .venv
  fi
  local stamp=.venv/.deid-installed want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [[ "$(cat "$stamp" 2>/dev/null)" != "$want" ]]; then
    say "installing deid and its dependencies into .venv (first run takes a few minutes)"
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
    echo "$want" > "$stamp"
  fi
}

ensure_apt_packages() {
  local missing=() package
  for package in "$@"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  command -v apt-get >/dev/null || die "missing packages ${missing[*]} and no apt-get to install them"
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  say "installing ${missing[*]} with apt-get"
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

ensure_kafka() {
  scripts/install-kafka
}

ensure_spark_kafka() {
  scripts/install-spark-kafka
}

ensure_minio() {
  # The S3-compatible server of the embedded stack and of the batch tests (built with go; cached under .deid/go).
  scripts/install-minio
}

setup_all() {
  ensure_venv
  ensure_kafka
  ensure_spark_kafka
  ensure_minio
  if [[ "${CI:-}" == "true" && ${#DEID_APT_PACKAGES[@]} -gt 0 ]]; then
    ensure_apt_packages "${DEID_APT_PACKAGES[@]}"
  fi
}
