# Detour and the two demo parties of the local stack (docker-compose.yml).
#
# Build stage: the Rust toolchain builds the `detour` binary and the
# `demo_upstream` and `demo_site` examples. Run stage: Debian slim with the
# three binaries, the sample Actions and the demo config.
#
#   docker build -t detour .
#   docker run --rm -p 127.0.0.1:8080:8080 detour          # the bundled sample config
#   docker run --rm detour detour check --config /app/examples/demo/detour.toml

FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked \
        --bin detour --example demo_upstream --example demo_site \
 && mkdir /out \
 && cp target/release/detour \
       target/release/examples/demo_upstream \
       target/release/examples/demo_site /out/

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin detour
COPY --from=build /out/ /usr/local/bin/
WORKDIR /app
COPY actions/ /app/actions/
COPY examples/demo/ /app/examples/demo/
USER detour
ENV DETOUR_SERVER__LISTEN=0.0.0.0:8080
EXPOSE 8080
CMD ["detour"]
