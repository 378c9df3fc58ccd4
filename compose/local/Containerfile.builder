# A Swift builder image for machines with no image registry (scripts/compose-smoke.sh): the
# locally made Debian bookworm base, the packages the Swift toolchain and our C shims need, and
# git rewritten to a local package mirror. The toolchain itself is not copied in: the build
# mounts the host's (podman build -v /opt/swift:/opt/swift:ro), and likewise the mirror.
ARG BASE_IMAGE=localhost/imageedit/bookworm:base
FROM ${BASE_IMAGE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        binutils git gnupg2 libc6-dev libcurl4-openssl-dev libedit2 libgcc-12-dev libncurses6 \
        libpython3.11 libsqlite3-0 libstdc++-12-dev libxml2-dev libz3-4 pkg-config tzdata unzip zlib1g-dev \
        ca-certificates \
        libnghttp2-dev libpq-dev libssl-dev libvips-dev libdeflate-dev \
    && rm -rf /var/lib/apt/lists/*
ARG SWIFT_ROOT=/opt/swift
ARG PACKAGE_MIRROR=/opt/swift-packages
ENV PATH=${SWIFT_ROOT}/usr/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
RUN git config --system url."${PACKAGE_MIRROR}/".insteadOf https://github.com/ \
    && git config --system --add safe.directory '*'
