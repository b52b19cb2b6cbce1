# syntax=docker/dockerfile:1
#
# rigmarket: a release build in a full Rust image, copied into a slim Debian
# runtime. Build: `docker build -t rigmarket .`; run: see compose.yaml.

# ---------------------------------------------------------------------------
# Builder
# ---------------------------------------------------------------------------
FROM rust:1.95-bookworm AS builder
WORKDIR /build

# Dependencies first, against stub sources: this layer depends only on the
# manifest and the lock file, so a code edit does not recompile hundreds of
# dependency crates.
# (Cargo checks that every declared target exists, hence the stub bench too; it
# is never built here.)
COPY Cargo.toml Cargo.lock ./
RUN mkdir src benches \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && echo 'fn main() {}' > benches/domain.rs \
 && cargo build --release --locked \
 && rm -rf src

# The real sources. migrations/ and data/ must be here before compiling:
# embed_migrations!("migrations") and include_str!("../../data/*.csv") put them
# into the binary, so the runtime image needs neither.
COPY build.rs ./
COPY src ./src
COPY migrations ./migrations
COPY data ./data
COPY openapi ./openapi
# COPY keeps the files' original mtimes, which can be older than the stub
# build's outputs; cargo decides freshness by mtime, so touch the crate roots
# or it may keep the stub binary.
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked \
 && cp target/release/rigmarket /usr/local/bin/rigmarket

# ---------------------------------------------------------------------------
# Runtime
# ---------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

# No libpq: diesel-async talks to PostgreSQL through tokio-postgres (pure Rust),
# and SMTP/S3 TLS is rustls. ca-certificates is for anything that reads the
# system trust store. curl is only for HEALTHCHECK: one small package, and a
# plain `curl -f URL` is easier to read and debug than a bash /dev/tcp
# hand-written HTTP request (which also cannot tell a 503 from a 200 without
# parsing the status line).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/*

# Fixed, high uid/gid so host bind mounts and Kubernetes securityContext can
# name it, and it collides with no distro or host account.
RUN groupadd --system --gid 10001 rigmarket \
 && useradd --system --uid 10001 --gid rigmarket --home-dir /app --no-create-home \
      --shell /usr/sbin/nologin rigmarket

# Relative defaults (./var/mail for .eml files without SMTP, ./var/storage for
# objects without S3) resolve under /app/var: the only writable directory.
# Mount a volume there to keep them. The CSVs are also embedded in the binary;
# the copies here are for `catalog import data/rig_models.csv` and the like.
WORKDIR /app
RUN mkdir -p /app/var && chown rigmarket:rigmarket /app/var
COPY --from=builder /build/data /app/data
COPY --from=builder /usr/local/bin/rigmarket /usr/local/bin/rigmarket

USER rigmarket:rigmarket

# Inside a container, loopback-only defaults (127.0.0.1) would be unreachable
# from outside, so listen on all interfaces. 8080: HTTP API; 3333: stratum.
# Also set RIGMARKET_PUBLIC_URL at run time: derived from 0.0.0.0 it does not
# count as local, so with the development JWT secret the service refuses to start.
ENV RIGMARKET_HTTP_ADDR=0.0.0.0:8080 \
    RIGMARKET_STRATUM_ADDR=0.0.0.0:3333
EXPOSE 8080 3333

# Readiness (the database answers), not mere liveness, so `depends_on:
# service_healthy` and orchestrators wait for a usable service. The port is
# taken from RIGMARKET_HTTP_ADDR so overriding it does not break the check.
# start-period covers migrations at startup. Not meaningful for `worker` or
# `serve --no-http` (no HTTP listener): disable it there (`--no-healthcheck`).
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${RIGMARKET_HTTP_ADDR##*:}/health/ready" || exit 1

# The binary handles SIGTERM itself (graceful shutdown), so no init wrapper.
# Set DATABASE_URL: without it, the CLI looks for PostgreSQL on 127.0.0.1:5432
# and then tries to start a private cluster, which this image cannot do.
ENTRYPOINT ["rigmarket"]
CMD ["serve"]
