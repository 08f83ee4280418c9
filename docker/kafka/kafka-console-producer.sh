#!/usr/bin/env bash
# Same arguments as Apache Kafka's kafka-console-producer.sh.
exec "$(dirname "$0")/kafka-run-class.sh" org.apache.kafka.tools.ConsoleProducer "$@"
