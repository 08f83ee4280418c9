#!/usr/bin/env bash
# Run a Kafka main class from the jars in /opt/kafka/libs (installed by scripts/install-kafka from
# Maven Central, the same jars as `deid stack up`), logging warnings to stderr only.
set -euo pipefail
KAFKA_HOME="${KAFKA_HOME:-/opt/kafka}"
exec java ${KAFKA_HEAP_OPTS:--Xmx512M} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true \
  "${KAFKA_LOG4J_OPTS:--Dlog4j2.configurationFile=$KAFKA_HOME/config/tools-log4j2.yaml}" \
  -cp "$KAFKA_HOME/libs/*" "$@"
