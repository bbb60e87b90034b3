# Builder: Debian bookworm, the project's own make (which installs its
# build packages and fetches BearSSL's Debian source package).
FROM debian:bookworm AS build
WORKDIR /src
COPY . .
RUN apt-get update -q && apt-get install -y -q --no-install-recommends make \
    && make && rm -rf /var/lib/apt/lists/*

# The image is the binary alone: no shell, no libc, no CA store (mount the
# bundle and point CA_BUNDLE_PATH at it).
FROM scratch
COPY --from=build /src/build/tokenbridge-sidecar /tokenbridge-sidecar
USER 65532:65532
ENTRYPOINT ["/tokenbridge-sidecar"]
CMD ["run"]
