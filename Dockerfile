# syntax=docker/dockerfile:1
#
# The container image of privacybot: the Go toolchain builds one static binary, and a small Alpine base
# runs it as an unprivileged user. fly.toml builds from this file; docs/operations.md says how to run it.
#
# deploy/deploy_test.go keeps this file honest without Docker: it builds ./cmd/privacybot with the
# `go build` line and the ENV of the build stage below, checks that the binary is static, runs it with no
# zone files and no environment but this file's and fly.toml's, and checks fly.toml against this file.
# Keep the build on one RUN line that starts with `go build`.

# Build stage: the Go of go.mod (go 1.26), pinned to the patch release.
FROM golang:1.26.8 AS build
WORKDIR /src
# A static binary: no cgo (the embedded store's SQLite is modernc.org/sqlite, pure Go).
ENV CGO_ENABLED=0
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# -tags timetzdata embeds Go's zone database (about 450 KB), so TZ=Asia/Tokyo and BUSINESS_HOURS work
# whatever the base image carries. -trimpath and -ldflags "-s -w" leave out local paths, symbols and
# DWARF.
RUN --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -tags timetzdata -ldflags "-s -w" -o /out/privacybot ./cmd/privacybot

# Run stage. Alpine rather than a distroless base because operating the embedded store on Fly.io needs
# a shell and `sleep` in the image: `fly ssh console -C "sh -c '…'"` (docs/backup.md's restore) and the
# maintenance start that keeps the volume mounted while the server is stopped, for `user add`
# (docs/operations.md). The base carries the CA certificates (ca-certificates-bundle) that TLS to LINE
# and MongoDB Atlas needs; no packages are added.
FROM alpine:3.23
# uid/gid 65532, as distroless's "nonroot". /data belongs to it, so that a Docker named volume made from
# the image is writable; Fly.io mounts its volume for the image's user.
RUN addgroup -S -g 65532 privacybot \
 && adduser -S -D -H -u 65532 -G privacybot -h /data -s /bin/sh privacybot \
 && mkdir -p /data && chown 65532:65532 /data && chmod 0700 /data
# On PATH, so that `fly ssh console -C "privacybot backup …"` finds it.
COPY --from=build /out/privacybot /usr/local/bin/privacybot
USER 65532:65532
# DATA_DIR is the embedded store (without MONGODB_URI): mount a volume there (fly.toml [[mounts]];
# docker run -v privacybot_data:/data). There is no VOLUME line on purpose: an anonymous volume would
# hide a missing mount until the container is removed with the data in it.
ENV DATA_DIR=/data PORT=8080 TZ=Asia/Tokyo
EXPOSE 8080
# The server stops cleanly on SIGTERM (it answers and seals what was acknowledged); never SIGKILL it.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/privacybot"]
CMD ["serve"]
