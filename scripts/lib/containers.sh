# Sourced by scripts/install-base-image and scripts/test-compose: podman configured for this kind of
# machine (runc, cgroupfs, no systemd; scripts/install-podman writes the config).
_deid_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export CONTAINERS_CONF="${CONTAINERS_CONF:-$_deid_root/.deid/containers/containers.conf}"
[[ -f "$CONTAINERS_CONF" ]] || { printf 'error: %s missing: run scripts/install-podman\n' "$CONTAINERS_CONF" >&2; exit 1; }
