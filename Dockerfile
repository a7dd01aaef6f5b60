# Build: make docker, or
#   docker build --build-arg VERSION=$(cat VERSION) --build-arg REVISION=$(git rev-parse HEAD) \
#     --build-arg BRANCH=$(git rev-parse --abbrev-ref HEAD) -t redis_security_exporter:$(cat VERSION) .
# Run:
#   docker run -p 9379:9379 -e REDIS_ADDR=redis://redis:6379 -e REDIS_USER=redis_security_exporter \
#     -e REDIS_PASSWORD_FILE=/run/secrets/redis_password redis_security_exporter:0.1.0

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION} AS builder
WORKDIR /src
ENV CGO_ENABLED=0

# Dependencies first: this layer is reused while go.mod and go.sum don't change.
COPY go.mod go.sum ./
RUN go mod download

COPY . .

# The same version information as `make build`. VERSION defaults to the
# VERSION file; .git is not in the build context, so pass REVISION and BRANCH.
ARG VERSION=""
ARG REVISION=unknown
ARG BRANCH=unknown
ARG BUILD_USER=docker
RUN set -eu; \
    version="${VERSION:-$(cat VERSION)}"; \
    pkg=github.com/prometheus/common/version; \
    go build -trimpath \
      -ldflags "-X ${pkg}.Version=${version} -X ${pkg}.Revision=${REVISION} -X ${pkg}.Branch=${BRANCH} -X ${pkg}.BuildUser=${BUILD_USER} -X ${pkg}.BuildDate=$(date -u +%Y%m%d-%H:%M:%S)" \
      -o /out/redis_security_exporter . \
 && /out/redis_security_exporter --version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=builder /out/redis_security_exporter /bin/redis_security_exporter
USER nonroot:nonroot
EXPOSE 9379
ENTRYPOINT ["/bin/redis_security_exporter"]
