# deid: one image for Kafka (KRaft, from the same Maven jars as `deid stack up`), the Spark master and
# worker (pyspark ships Spark), the catalog, the producer, inference and the per-domain workers.
# Build arguments (docker-compose.yml passes them from DEID_* variables):
#   BASE_IMAGE  a Debian bookworm image (default: the public debian:bookworm-slim; scripts/test-compose
#               passes one made with debootstrap, scripts/install-base-image)
#   WHEELHOUSE  a folder of the build context with wheels for pip (default: docker/wheels, empty)
#   PIP_ARGS    extra pip arguments, e.g. --no-index when WHEELHOUSE holds every dependency
ARG BASE_IMAGE=debian:bookworm-slim

FROM ${BASE_IMAGE} AS system
# Java runs Kafka and Spark; tini reaps children and forwards signals. ca-certificates also trusts any
# extra CA of the base image (/usr/local/share/ca-certificates), for pip and Maven behind a TLS proxy.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates python3 python3-venv openjdk-17-jre-headless tini procps \
 && rm -rf /var/lib/apt/lists/*
# A venv: Debian's Python refuses system-wide pip installs (PEP 668).
RUN python3 -m venv /opt/deid
ENV PATH=/opt/deid/bin:$PATH \
    VIRTUAL_ENV=/opt/deid \
    PYSPARK_PYTHON=/opt/deid/bin/python \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONUNBUFFERED=1

# Kafka and the Spark Kafka connector, from Maven Central with the project's own install scripts. Kafka
# first: its layer survives a change of pyproject.toml.
FROM system AS jars
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends maven \
 && rm -rf /var/lib/apt/lists/*
COPY scripts/install-kafka scripts/install-spark-kafka scripts/kafka-pom.xml scripts/spark-kafka-pom.xml /src/scripts/
COPY scripts/lib/kafka-home.sh /src/scripts/lib/
RUN DEID_KAFKA_HOME=/opt/kafka /src/scripts/install-kafka && rm -rf /root/.m2
# The connector's version is pyspark's: install pyspark (and py4j; same pin, same wheels) to read it.
ARG WHEELHOUSE=docker/wheels
ARG PIP_ARGS=
COPY pyproject.toml /tmp/deid/pyproject.toml
RUN --mount=type=bind,source=${WHEELHOUSE},target=/wheels \
    pip install --no-cache-dir --find-links /wheels ${PIP_ARGS} \
      "$(python -c 'import tomllib; print(next(d for d in tomllib.load(open("/tmp/deid/pyproject.toml", "rb"))["project"]["dependencies"] if d.startswith("pyspark")))')" \
 && DEID_DATA_DIR=/opt/deid-data /src/scripts/install-spark-kafka --python /opt/deid/bin/python \
 && rm -rf /root/.m2

# Dependencies (this layer is reused until pyproject.toml changes), from the wheelhouse if given.
FROM system AS runtime
ARG WHEELHOUSE=docker/wheels
ARG PIP_ARGS=
COPY pyproject.toml /tmp/deid/pyproject.toml
RUN --mount=type=bind,source=${WHEELHOUSE},target=/wheels \
    python -c 'import tomllib; print("\n".join(tomllib.load(open("/tmp/deid/pyproject.toml", "rb"))["project"]["dependencies"]))' \
      > /tmp/deid/requirements.txt \
 && pip install --no-cache-dir --find-links /wheels ${PIP_ARGS} -r /tmp/deid/requirements.txt \
 && rm -rf /tmp/deid

FROM runtime
COPY --from=jars /opt/kafka /opt/kafka
COPY --from=jars /opt/deid-data/spark-jars /opt/spark-jars
COPY docker/kafka/*.sh /opt/kafka/bin/
COPY docker/http-ok /usr/local/bin/http-ok
RUN useradd --create-home --uid 10001 deid \
 && mkdir -p /home/deid/.deid /var/lib/kafka/data \
 && chown deid:deid /home/deid/.deid /var/lib/kafka/data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY deid ./deid
COPY producers ./producers
COPY schema_inference ./schema_inference
COPY recognizers ./recognizers
COPY catalog ./catalog
COPY pipelines ./pipelines
COPY batch ./batch
RUN pip install --no-cache-dir --no-deps . && rm -rf build

USER deid
# Volumes mounted at /home/deid/.deid (the catalog's data) start writable: the folder is deid's.
ENV DEID_DATA_DIR=/home/deid/.deid \
    DEID_KAFKA_HOME=/opt/kafka \
    DEID_SPARK_JARS_DIR=/opt/spark-jars \
    KAFKA_HOME=/opt/kafka
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["deid", "--help"]
