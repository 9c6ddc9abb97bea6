# rewardd container images (no registry needed: see docs/deploy.md).
#
#   docker build --network=host -t rewardd:dev .                       # rewardd
#   docker build --network=host --target=judge-sim -t rewardd-judge-sim:dev .
#   docker run --rm -p 50051:50051 -p 9464:9464 rewardd:dev
#
# No `# syntax=` line on purpose: it makes BuildKit pull its frontend from a
# registry, and this file needs nothing beyond the built-in one.
#
# Stages: `builder` compiles rewardd, reward-cli and judge-sim from source;
# `judge-sim` is the simulated OpenAI-compatible judge (tests and the compose
# stack in deploy/compose/); `runtime`, the last and default stage, is the
# rewardd image. scripts/container-test.sh builds and runs all of it in CI.

ARG DEBIAN_RELEASE=bookworm

# --- builder -----------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE} AS builder
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /src
# Bootstrap first, on its own layer: it only changes when the package list
# does. --build-only: the compile's packages (the same names CI installs),
# without the test tools (Prometheus, Python, clang-format).
COPY scripts/bootstrap.sh scripts/bootstrap.sh
RUN bash scripts/bootstrap.sh --build-only && rm -rf /var/lib/apt/lists/*
# Only the sources of the three binaries: a change to tests/, docs/, bench/,
# deploy/ or examples/ keeps this layer and the compile below cached (the
# top-level CMakeLists.txt skips the directories that are absent).
COPY CMakeLists.txt ./
COPY protos protos
COPY server server
COPY client client
COPY tools tools
# Release without -g: what ships is stripped, and debug info would only slow
# the compile down.
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DREWARDD_BUILD_TESTS=OFF \
 && ninja -C build -j"$(nproc)" rewardd reward-cli judge-sim \
 && install -d /out/bin \
 && for b in rewardd reward-cli judge-sim; do \
      install -m 0755 "$(find build -type f -name "$b" -perm -u+x | head -n1)" /out/bin/"$b"; \
    done \
 && strip --strip-unneeded /out/bin/*

# --- judge-sim ---------------------------------------------------------------
# The simulated judge, in an image of its own so that the rewardd image
# carries no test tool.
FROM debian:${DEBIAN_RELEASE}-slim AS judge-sim
ENV DEBIAN_FRONTEND=noninteractive
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcpp-httplib0.11 libabsl20220623 \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log
COPY --from=builder /out/bin/judge-sim /usr/local/bin/judge-sim
USER 65532:65532
EXPOSE 8000
ENTRYPOINT ["/usr/local/bin/judge-sim"]
CMD ["--host=0.0.0.0", "--port=8000", "--capacity=256"]

# --- runtime -----------------------------------------------------------------
FROM debian:${DEBIAN_RELEASE}-slim AS runtime
ENV DEBIAN_FRONTEND=noninteractive
# RUNTIME_PACKAGES: the Debian packages that provide every shared library of
# rewardd and reward-cli (their own dependencies come with them), plus
# ca-certificates for judges reached over HTTPS. Keep this one line per package:
# tests/deploy/check_runtime_deps.py parses it (the last stage's install).
# No apt lists, package cache or apt/dpkg logs stay in the layer; the -slim
# base's dpkg configuration keeps documentation out.
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
      libcpp-httplib0.11 \
      libssl3 \
      libstdc++6 \
      ca-certificates \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/log/apt /var/log/dpkg.log \
      /var/cache/debconf/*-old
# A fixed numeric uid/gid, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 65532 rewardd \
 && useradd --system --uid 65532 --gid 65532 --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin rewardd \
 && rm -f /etc/group- /etc/gshadow- /etc/passwd- /etc/shadow- /var/log/faillog /var/log/lastlog
COPY --from=builder /out/bin/rewardd /out/bin/reward-cli /usr/local/bin/
COPY examples/rubrics /etc/rewardd/rubrics
USER 65532:65532
EXPOSE 50051 9464
# `docker ps` shows health through rewardd's own grpc.health.v1 service
# (SERVING once the rubric sets are loaded, NOT_SERVING while draining).
# REWARDD_HEALTH_TARGET: where rewardd listens, when --listen is changed.
ENV REWARDD_HEALTH_TARGET=127.0.0.1:50051
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["/bin/sh", "-c", "exec /usr/local/bin/reward-cli health --target=\"$REWARDD_HEALTH_TARGET\" --service=reward.v1.RewardService --deadline_seconds=4"]
# SIGTERM starts rewardd's drain (health NOT_SERVING, in-flight RPCs finish).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/rewardd"]
CMD ["--listen=0.0.0.0:50051", "--metrics_listen=0.0.0.0:9464", \
     "--rubric_dir=/etc/rewardd/rubrics"]
