# syntax=docker/dockerfile:1
#
# ShareThings server image. cgo is required (mattn/go-sqlite3): a CGO_ENABLED=0 build compiles
# but fails at runtime, so the builder is a glibc image with gcc and cgo is switched on
# explicitly. cmd/sharethings/dockerfile_test.go keeps this file consistent with go.mod and the
# server's settings.
#
#   docker build -t sharethings .
#   docker run -p 8080:8080 -v sharethings-data:/data sharethings

FROM golang:1.26-bookworm AS build
WORKDIR /src
ENV CGO_ENABLED=1

# Modules in their own layer: rebuilt only when go.mod or go.sum change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .
# The build cache survives between builds (the SQLite amalgamation alone takes ~35 s cold).
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags "-s -w" -o /out/sharethings ./cmd/sharethings

FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*

# A fixed, non-root uid so volume ownership is predictable (bind mounts: chown 10001 on the host).
RUN groupadd --system --gid 10001 sharethings \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin sharethings \
    && mkdir -p /data \
    && chown 10001:10001 /data \
    && chmod 0700 /data

COPY --from=build /out/sharethings /usr/local/bin/sharethings

ENV SHARETHINGS_DATA_DIR=/data SHARETHINGS_ADDR=:8080
# Declared after the chown so a new named volume starts owned by 10001 with mode 0700.
VOLUME /data
USER 10001:10001
EXPOSE 8080

# The binary checks its own /healthz (on SHARETHINGS_ADDR): the image ships no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/sharethings", "healthcheck"]

ENTRYPOINT ["/usr/local/bin/sharethings"]
CMD ["serve"]
