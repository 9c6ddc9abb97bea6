# The compose stack check of scripts/container-test.sh (sourced; uses its
# globals and helpers.sh): deploy/compose up, a grade through judge-sim,
# Prometheus answering with rewardd's series and the project's rules, down.

# docker-compose builds through the `docker` CLI on PATH: make it the one the
# images were built with, whose build context (file modes, owners) matches,
# so that its build hits the layer cache.
compose() {
  PATH="$(dirname "$DOCKER_BIN"):$PATH" \
    docker-compose -p "rewardd-$RUN_ID" -f "$ROOT/deploy/compose/docker-compose.yml" "$@"
}

# prom_has PORT QUERY: Prometheus' instant query returns at least one series.
prom_has() {
  curl -fsS -G "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" |
    jq -e '.status == "success" and (.data.result | length) > 0' >/dev/null
}

test_compose() {
  local grpc metrics prom id groups
  free_port grpc
  free_port metrics
  free_port prom
  # The images this run built, on free host ports.
  export REWARDD_IMAGE=$IMG JUDGE_SIM_IMAGE=$SIM_IMG PROMETHEUS_IMAGE=$PROM_IMG
  export REWARDD_PORT=$grpc REWARDD_METRICS_PORT=$metrics PROMETHEUS_PORT=$prom
  # The file's build sections, run against this run's layer cache: every
  # step is cached, so this proves they build the images CI just built.
  compose build >"$WORK/compose-build.log" 2>&1 || {
    tail -n 40 "$WORK/compose-build.log" >&2
    fail "docker-compose build failed (log above)"
  }
  grep -q "Running in" "$WORK/compose-build.log" &&
    fail "docker-compose build ran steps the Dockerfile build had cached"
  COMPOSE_UP=1
  compose up -d --no-build >"$WORK/compose-up.log" 2>&1 || {
    cat "$WORK/compose-up.log" >&2
    fail "docker-compose up failed (log above)"
  }
  id=$(compose ps -q rewardd)
  [[ -n $id ]] || fail "docker-compose started no rewardd container"
  wait_healthy "$id"
  cli grade --target="127.0.0.1:$grpc" --quiet <examples/requests/demo.jsonl \
    >"$WORK/compose.jsonl" || fail "grading through the compose stack failed"
  check_results examples/requests/demo.jsonl "$WORK/compose.jsonl" "compose"
  (($(metric "$metrics" rewardd_judge_calls_total 'judge="judge-sim"' 'outcome="ok"') > 0)) ||
    fail "compose: rewardd made no successful call to judge-sim"
  echo "compose: graded through judge-sim (rewardd_judge_calls_total{judge=\"judge-sim\",outcome=\"ok\"} > 0)"

  wait_for 120 "Prometheus to return rewardd's series" \
    prom_has "$prom" 'rewardd_judge_calls_total{job="rewardd",judge="judge-sim",outcome="ok"}'
  groups=$(curl -fsS "http://127.0.0.1:$prom/api/v1/rules" |
    jq -r '[.data.groups[].name] | join(" ")')
  [[ $groups == *rewardd.serving.rules* ]] ||
    fail "compose: Prometheus has not loaded deploy/prometheus/rules.yml (groups: $groups)"
  # A recording rule evaluated over scraped samples: rules, scrape and
  # rewardd's metric names agree.
  wait_for 120 "a recording rule over rewardd's series" \
    prom_has "$prom" 'method:rewardd_requests:rate5m'
  echo "compose: Prometheus scrapes rewardd and evaluates the project's rules ($groups)"

  compose down -v >"$WORK/compose-down.log" 2>&1 || {
    cat "$WORK/compose-down.log" >&2
    fail "docker-compose down failed (log above)"
  }
  COMPOSE_UP=""
  [[ -z $(docker ps -aq --filter "label=com.docker.compose.project=rewardd-$RUN_ID") ]] ||
    fail "compose: containers left after down"
  echo "compose: down removed the stack"
}
