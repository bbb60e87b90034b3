# tokenbridge-sidecar: the static binary alone, in a scratch image.
#
#   docker build --network host --build-arg VERSION=0.1.0 \
#       -t tokenbridge-sidecar:0.1.0 .
#
# The builder needs the network (Debian packages, BearSSL's Debian source
# package); `make image` builds offline from a local debian:bookworm base
# that already holds the build packages (tests/image/image.sh).

ARG VERSION=0.1.0

FROM debian:bookworm AS build
ARG VERSION
WORKDIR /src
# The project's make installs its own build packages (third_party/deps.sh)
# but needs make itself first; a base that has it skips apt entirely.
RUN command -v make >/dev/null || { apt-get update -q \
    && apt-get install -y -q --no-install-recommends make \
    && rm -rf /var/lib/apt/lists/*; }
# Third-party code first, in its own layer: editing src/ does not fetch and
# rebuild BearSSL again.
COPY Makefile ./
COPY third_party/ third_party/
RUN make build/third_party/bearssl-musl/libbearssl.a build/include/jsmn.h
COPY src/ src/
RUN make VERSION="$VERSION" && ./build/tokenbridge-sidecar version

# No shell, no libc, no CA store: mount the CA bundle and point
# CA_BUNDLE_PATH at it. The probe is `tokenbridge-sidecar check`.
FROM scratch
ARG VERSION
# The repository URL: the release pipeline passes --build-arg SOURCE=URL.
ARG SOURCE=
LABEL org.opencontainers.image.title="tokenbridge-sidecar" \
      org.opencontainers.image.description="Kubernetes sidecar: exchanges the pod's ServiceAccount token for an access token (RFC 8693) and keeps it fresh in a file" \
      org.opencontainers.image.version="$VERSION" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.source="$SOURCE"
COPY --from=build /src/build/tokenbridge-sidecar /tokenbridge-sidecar
# The distroless "nonroot" user; a pod may pick another with runAsUser.
USER 65532:65532
ENTRYPOINT ["/tokenbridge-sidecar"]
CMD ["run"]
