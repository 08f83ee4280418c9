# Sourced by scripts/install-base-image and scripts/test-compose: podman configured for this kind of
# machine (runc, cgroupfs, no systemd; scripts/install-podman writes the config).
_deid_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$_deid_root/.deid/containers/containers.conf}"
[[ -f "$CONTAINERS_CONF" ]] || { printf 'error: %s missing: run scripts/install-podman\n' "$CONTAINERS_CONF" >&2; exit 1; }

DEID_PODMAN_DIR="$_deid_root/.deid/podman"

# The Docker-compatible API that compose talks to (podman system service), started once, pid in a file.
podman_service_start() {
  mkdir -p "$DEID_PODMAN_DIR"
  export DOCKER_HOST="unix://$DEID_PODMAN_DIR/podman.sock" DOCKER_BUILDKIT=0
  local pid
  pid="$(cat "$DEID_PODMAN_DIR/service.pid" 2>/dev/null || true)"
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && [[ -S "$DEID_PODMAN_DIR/podman.sock" ]]; then return 0; fi
  rm -f "$DEID_PODMAN_DIR/podman.sock"
  podman system service --time=0 "$DOCKER_HOST" >"$DEID_PODMAN_DIR/service.log" 2>&1 &
  echo $! >"$DEID_PODMAN_DIR/service.pid"
  local i
  for i in $(seq 1 50); do [[ -S "$DEID_PODMAN_DIR/podman.sock" ]] && return 0; sleep 0.2; done
  printf 'error: podman system service did not open %s (log: %s)\n' "$DOCKER_HOST" "$DEID_PODMAN_DIR/service.log" >&2
  return 1
}

podman_service_stop() {
  local pid
  pid="$(cat "$DEID_PODMAN_DIR/service.pid" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  rm -f "$DEID_PODMAN_DIR/service.pid"
}

# Without systemd podman never runs health checks by itself, so `depends_on: condition: service_healthy`
# would wait forever: run each container's check at its own interval (as Docker would; at most every 5 s
# while it is still starting). Containers of compose project $1 only.
_healthcheck_interval() {
  local spec seconds
  spec="$(podman inspect --format '{{.Config.Healthcheck.Interval}}' "$1" 2>/dev/null || true)"
  case "$spec" in
    *m*s) local rest=${spec#*m}; rest=${rest%s}; seconds=$(( ${spec%%m*} * 60 + ${rest%%.*} )) ;;
    *s) seconds=${spec%s}; seconds=${seconds%%.*} ;;
    *) seconds=30 ;;
  esac
  [[ "$seconds" =~ ^[0-9]+$ && "$seconds" -gt 0 ]] || seconds=30
  echo "$seconds"
}

healthcheck_runner_start() {
  local project="$1"
  (
    declare -A last=() every=()
    while true; do
      now=$(date +%s)
      while read -r id status; do
        [[ -n "$id" ]] || continue
        [[ -n "${every[$id]:-}" ]] || every[$id]=$(_healthcheck_interval "$id")
        wait_for=${every[$id]}
        [[ "$status" == starting && $wait_for -gt 5 ]] && wait_for=5
        (( now - ${last[$id]:-0} >= wait_for )) || continue
        last[$id]=$now
        podman healthcheck run "$id" >/dev/null 2>&1 || true
      done < <(podman ps --filter "label=com.docker.compose.project=$project" \
                 --format '{{.ID}} {{.Status}}' 2>/dev/null \
                 | sed -nE 's/^([0-9a-f]+) .*\((healthy|unhealthy|starting)\).*/\1 \2/p')
      sleep 1
    done
  ) >/dev/null 2>&1 &
  echo $! >"$DEID_PODMAN_DIR/healthcheck-runner.pid"
}

healthcheck_runner_stop() {
  local pid
  pid="$(cat "$DEID_PODMAN_DIR/healthcheck-runner.pid" 2>/dev/null || true)"
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  rm -f "$DEID_PODMAN_DIR/healthcheck-runner.pid"
}
