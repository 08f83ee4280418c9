# Sourced by scripts/install-kafka and scripts/kafka-console-consumer: where the Kafka jars live.
# Same rule as deid's settings (DEID_KAFKA_HOME, else <DEID_DATA_DIR>/kafka, data dir default .deid),
# with relative paths taken against the repository root so the scripts work from any directory.
_kafka_repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KAFKA_HOME="${DEID_KAFKA_HOME:-${DEID_DATA_DIR:-.deid}/kafka}"
case "$KAFKA_HOME" in
  /*) ;;
  *) KAFKA_HOME="$_kafka_repo_root/$KAFKA_HOME" ;;
esac
KAFKA_HOME="$(realpath -m -- "$KAFKA_HOME")"
