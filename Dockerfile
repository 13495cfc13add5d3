# The reference relay (and the sandbox, for local trials) in a small image that runs as a
# non-root user. Build from the repository root:
#   docker build -t app-conversions-relay .
# Run: docker run -p 8788:8788 -e RELAY_LISTEN=0.0.0.0:8788 -e RELAY_CONVERSION_TOKEN=... \
#        -e RELAY_APP_TOKENS=549768257474:app-token app-conversions-relay

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p app-conversions-relay -p app-conversions-sandbox \
    && cp target/release/app-conversions-relay target/release/app-conversions-sandbox /usr/local/bin/

# distroless: glibc and nothing else (no shell); the upstream TLS roots are built into the
# binary. The nonroot tag runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /usr/local/bin/app-conversions-relay /usr/local/bin/app-conversions-sandbox /usr/local/bin/
COPY relay/relay.toml /etc/app-conversions-relay/relay.toml
USER nonroot
EXPOSE 8788 9788
ENV RELAY_LISTEN=0.0.0.0:8788
ENTRYPOINT ["/usr/local/bin/app-conversions-relay"]
