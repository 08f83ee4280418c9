#!/usr/bin/env bash
# One KRaft node (broker and controller) configured like the apache/kafka image: every KAFKA_* variable
# becomes a server property (KAFKA_LOG_DIRS -> log.dirs, `__` -> `_`). Formats the storage on first
# start (CLUSTER_ID, else a random id), then runs the broker in the foreground.
set -euo pipefail
KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
config="${KAFKA_CONFIG_DIR:-/tmp/kafka-config}/server.properties"
mkdir -p "$(dirname "$config")"
: "${KAFKA_LOG_DIRS:=/var/lib/kafka/data}"
export KAFKA_LOG_DIRS
{
  while IFS='=' read -r name value; do
    case "$name" in
      KAFKA_HOME|KAFKA_HEAP_OPTS|KAFKA_OPTS|KAFKA_LOG4J_OPTS|KAFKA_CONFIG_DIR) continue ;;
    esac
    key="${name#KAFKA_}"; key="${key,,}"; key="${key//__/-}"; key="${key//_/.}"; key="${key//-/_}"
    printf '%s=%s\n' "$key" "$value"
  done < <(env | grep -E '^KAFKA_[A-Z0-9_]+=' | sort)
} > "$config"
run() { KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$KAFKA_HOME/config/log4j2.yaml" \
  KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms256m}" \
  "$KAFKA_HOME/bin/kafka-run-class.sh" -Dkafka.logs.dir="${KAFKA_LOGS_DIR:-/tmp/kafka-logs}" "$@"; }
if [[ ! -f "$KAFKA_LOG_DIRS/meta.properties" ]]; then
  cluster_id="${CLUSTER_ID:-$(java -cp "$KAFKA_HOME/libs/*" kafka.tools.StorageTool random-uuid 2>/dev/null || true)}"
  [[ -n "$cluster_id" ]] || { echo "kafka-server-start: could not generate a cluster id; set CLUSTER_ID" >&2; exit 1; }
  run kafka.tools.StorageTool format --cluster-id "$cluster_id" -c "$config" >&2
fi
exec env KAFKA_LOG4J_OPTS="-Dlog4j2.configurationFile=$KAFKA_HOME/config/log4j2.yaml" \
  KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xmx1G -Xms256m}" \
  "$KAFKA_HOME/bin/kafka-run-class.sh" -Dkafka.logs.dir="${KAFKA_LOGS_DIR:-/tmp/kafka-logs}" kafka.Kafka "$config"
