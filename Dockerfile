# deid: one image for the producer, the catalog, inference and the per-domain workers.
FROM python:3.11-slim

# Java runs Spark (schema inference); tini reaps children and forwards signals to workers.
RUN apt-get update \
 && apt-get install -y --no-install-recommends openjdk-17-jre-headless tini \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 deid
WORKDIR /app
COPY pyproject.toml README.md ./
COPY deid ./deid
COPY producers ./producers
COPY schema_inference ./schema_inference
COPY recognizers ./recognizers
COPY catalog ./catalog
COPY pipelines ./pipelines
RUN pip install --no-cache-dir .
# Owned by deid so a volume mounted here (the catalog's) starts writable.
RUN mkdir -p /home/deid/.deid && chown deid:deid /home/deid/.deid

USER deid
ENV DEID_DATA_DIR=/home/deid/.deid \
    PYTHONUNBUFFERED=1
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["deid", "--help"]
