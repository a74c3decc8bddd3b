# Baton worker: runs Temporal workflows/activities (TypeScript via tsx) and
# shells out to dbt, so the image carries both Node and a Python venv.
FROM node:20-bookworm-slim

# ca-certificates: the slim base has no CA bundle, which TLS to a remote
# Temporal/warehouse needs.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/*

# Python deps first: they change far less often than the JS code.
COPY scripts/requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/baton/venv \
 && /opt/baton/venv/bin/pip install --no-cache-dir -r /tmp/requirements.txt \
 && rm /tmp/requirements.txt

WORKDIR /app

# tsx is a runtime dependency, so a production-only install is enough.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev && npm cache clean --force

COPY tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY scripts ./scripts
COPY dbt ./dbt

# Fixed uid so a bind-mounted ./data can be chown'd to match on the host.
# Code stays root-owned (read-only to the worker); only dbt's target/logs,
# the data dir and the workflow bundle's generated entry (.baton/generated,
# written from workflows/dags/ at start) are writable.
RUN groupadd --system --gid 10001 baton \
 && useradd --system --uid 10001 --gid baton --create-home --home-dir /home/baton baton \
 && mkdir -p /data /app/dbt/target /app/dbt/logs /app/.baton/generated \
 && chown -R baton:baton /data /app/dbt /app/.baton/generated

# Prometheus metrics on every interface: the container's loopback is out of a scraper's reach.
ENV BATON_DBT_BIN=/opt/baton/venv/bin/dbt \
    BATON_DATA_DIR=/data \
    BATON_METRICS_HOST=0.0.0.0 \
    NODE_ENV=production
EXPOSE 9464

USER baton

CMD ["node", "--import", "tsx", "scripts/worker.ts"]
