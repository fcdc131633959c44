# voter-meetings: one binary (`serve`, `migrate`, `token create`, …) in a small Debian image.
#   docker build -t voter-meetings .
#   docker compose up            # with PostgreSQL and Mailpit, see docker-compose.yml

# ---- build ------------------------------------------------------------------
FROM rust:1-bookworm AS builder
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq-dev pkg-config libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /build

# Dependencies first: with stub sources, this layer compiles every crate of Cargo.lock
# and is reused until Cargo.toml or Cargo.lock change.
COPY Cargo.toml Cargo.lock ./
RUN mkdir src \
 && echo 'fn main() {}' > src/main.rs \
 && touch src/lib.rs \
 && cargo build --release --locked \
 && rm -rf src

# The crate itself. migrations/ (diesel_migrations' embed_migrations!), templates/
# (askama) and config/default.toml (the built-in defaults) are read at compile time and
# end up inside the binary; the OpenAPI document is generated from the code. The stubs'
# fingerprints go, so cargo cannot mistake the stub build for an up-to-date one (COPY
# keeps the files' older mtimes).
COPY build.rs ./
COPY src/ src/
COPY migrations/ migrations/
COPY templates/ templates/
COPY config/ config/
RUN rm -rf target/release/.fingerprint/voter-meetings-* \
 && cargo build --release --locked

# ---- run --------------------------------------------------------------------
FROM debian:bookworm-slim
# libpq5: diesel's PostgreSQL driver; libssl3 + ca-certificates: lettre's native-tls
# and sslmode=require/verify-full towards the database.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpq5 libssl3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --uid 10001 --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=builder /build/target/release/voter-meetings /usr/local/bin/voter-meetings
COPY config/ /app/config/
# var/mail receives .eml files when SMTP_URL is unset (MAIL_DIR defaults to var/mail).
RUN mkdir -p /app/var/mail && chown -R app:app /app/var

USER app
# config/production.toml: listen on 0.0.0.0:8080, a larger pool. DATABASE_URL, SMTP_URL,
# MAIL_FROM, … come from the environment (see README, "Configuration").
ENV APP_ENV=production \
    APP_CONFIG_DIR=/app/config
EXPOSE 8080
# No HEALTHCHECK here: docker-compose.yml declares one (bash's /dev/tcp against
# /readyz), because only it knows the port the service was given.
ENTRYPOINT ["/usr/local/bin/voter-meetings"]
CMD ["serve"]
