# syntax=docker/dockerfile:1
#
# rewardd container image.
#
#   docker build -t rewardd:dev .
#   docker run --rm -p 50051:50051 -p 9464:9464 rewardd:dev
#
# The builder runs exactly what CI runs (scripts/bootstrap.sh, then the
# Release CMake build), so a green CI run proves these steps. The runtime stage
# carries only the shared libraries the binaries link against; the list below
# is checked against the real binaries by tests/deploy/check_runtime_deps.py
# (run from scripts/validate-deploy.sh), because no Docker engine runs in CI.

ARG DEBIAN_RELEASE=bookworm

# --- builder -----------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE} AS builder
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Bootstrap first, on its own layer: it only changes when the package list does.
COPY scripts/bootstrap.sh scripts/bootstrap.sh
RUN bash scripts/bootstrap.sh && rm -rf /var/lib/apt/lists/*
COPY . .
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && ninja -C build rewardd reward-cli \
 && install -d /out/bin \
 && install -m 0755 "$(find build -type f -name rewardd -perm -u+x | head -n1)" /out/bin/rewardd \
 && install -m 0755 "$(find build -type f -name reward-cli -perm -u+x | head -n1)" /out/bin/reward-cli \
 && strip --strip-unneeded /out/bin/rewardd /out/bin/reward-cli

# --- runtime -----------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# RUNTIME_PACKAGES: the Debian packages that provide every shared library of
# rewardd and reward-cli (their own dependencies come with them), plus
# ca-certificates for judges reached over HTTPS. Keep this one line per package:
# tests/deploy/check_runtime_deps.py parses it.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libgrpc++1.51 \
      libgrpc29 \
      libprotobuf32 \
      libabsl20220623 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
      libcurl4 \
      libre2-9 \
      libjemalloc2 \
      libyaml-cpp0.7 \
      libsimdjson14 \
      libssl3 \
      libstdc++6 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 65532 rewardd \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin rewardd
COPY --from=builder /out/bin/rewardd /out/bin/reward-cli /usr/local/bin/
COPY examples/rubrics /etc/rewardd/rubrics
USER 65532:65532
EXPOSE 50051 9464
# SIGTERM starts rewardd's drain (health NOT_SERVING, in-flight RPCs finish).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/rewardd"]
CMD ["--listen=0.0.0.0:50051", "--metrics_listen=0.0.0.0:9464", \
     "--rubric_dir=/etc/rewardd/rubrics"]
