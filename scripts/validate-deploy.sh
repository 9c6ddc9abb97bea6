#!/usr/bin/env bash
# Validates everything under deploy/ and the Dockerfile without a cluster or a
# Docker engine:
#   1. installs the pinned validator (deploy/validate, `npm ci`, cached in
#      deploy/validate/node_modules) and runs its own tests;
#   2. checks that deploy/k8s/base/rubrics are copies of examples/rubrics,
#      that deploy/k8s/base/prometheusrule.yaml is up to date with
#      deploy/prometheus/rules.yml (or the placeholder until that exists) and,
#      where promtool exists, that the rules parse;
#   3. renders the base and every overlay with `kubectl kustomize` (or, without
#      kubectl, with deploy/validate/kustomize-lite.mjs; with kubectl, also
#      checks that kustomize-lite renders the same objects) and validates every
#      object against the Kubernetes and prometheus-operator schemas, plus the
#      references between objects; deploy/k8s/extras/*.yaml schema only;
#   4. tests/deploy/check_manifests_agree.py: ports, flags, probe services and
#      drain timing agree with rewardd (with the binary: its --helpfull, and a
#      live start with each overlay's flags);
#   5. tests/deploy/check_runtime_deps.py: the Dockerfile's runtime packages
#      cover every shared library of rewardd and reward-cli.
# Steps 4 (binary part) and 5 need built binaries: pass --build-dir DIR (default
# build/ when it has them); without them those parts are reported as skipped.
#
#   scripts/validate-deploy.sh [--build-dir build]
#
# Ends with "N passed, N failed"; exit status 1 when anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR=""
while (($#)); do
  case "$1" in
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --build-dir=*) BUILD_DIR="${1#*=}"; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "validate-deploy: unknown argument $1" >&2; exit 2 ;;
  esac
done

passed=0
failed=0
skipped=0
step() {  # step NAME COMMAND...: runs COMMAND, prints its output on failure
  local name="$1"; shift
  local out
  if out="$("$@" 2>&1)"; then
    passed=$((passed + 1)); echo "PASS  $name"
  else
    failed=$((failed + 1)); echo "FAIL  $name"; echo "$out" | sed 's/^/      /'
  fi
}
skip() { skipped=$((skipped + 1)); echo "SKIP  $1: $2"; }

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# 1. The validator ------------------------------------------------------------
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "validate-deploy: Node.js and npm are required (Debian: apt-get install nodejs npm)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
VDIR=deploy/validate
# Reinstall only when package-lock.json changed since the last install.
if [[ ! -f $VDIR/node_modules/.package-lock.json ||
      $VDIR/package-lock.json -nt $VDIR/node_modules/.package-lock.json ]]; then
  step "npm ci (deploy/validate)" npm ci --prefix "$VDIR" --no-audit --no-fund --loglevel=error
fi
step "validator self-tests (node --test deploy/validate/test)" node --test "$VDIR/test/"

# 2. PrometheusRule generated from the Prometheus rule file --------------------
RULES=deploy/prometheus/rules.yml
if [[ ! -f $RULES ]]; then
  echo "NOTE  $RULES does not exist yet: the PrometheusRule uses $VDIR/placeholder-rules.yml"
  RULES=$VDIR/placeholder-rules.yml
fi
check_rule_fresh() {
  node "$VDIR/gen-prometheusrule.mjs" "$RULES" > "$WORK/prometheusrule.yaml" || return 1
  if ! diff -u deploy/k8s/base/prometheusrule.yaml "$WORK/prometheusrule.yaml"; then
    echo "deploy/k8s/base/prometheusrule.yaml is stale; regenerate it:"
    echo "  node $VDIR/gen-prometheusrule.mjs $RULES > deploy/k8s/base/prometheusrule.yaml"
    return 1
  fi
}
step "PrometheusRule is generated from $RULES" check_rule_fresh
if command -v promtool >/dev/null; then
  step "promtool check rules $RULES" promtool check rules "$RULES"
else
  skip "promtool check rules" "promtool not installed"
fi

# The rubric ConfigMap's files are copies of examples/rubrics.
check_rubric_copies() {
  local f bad=0
  for f in deploy/k8s/base/rubrics/*; do
    if ! cmp -s "$f" "examples/rubrics/${f##*/}"; then
      echo "$f differs from examples/rubrics/${f##*/} (or that is gone); refresh it:"
      echo "  cp examples/rubrics/${f##*/} $f"
      bad=1
    fi
  done
  return $bad
}
step "deploy/k8s/base/rubrics are copies of examples/rubrics" check_rubric_copies

# 3. Render and validate ------------------------------------------------------
KUBECTL=""
# VALIDATE_DEPLOY_NO_KUBECTL=1 exercises the fallback on a machine with kubectl.
if [[ -z ${VALIDATE_DEPLOY_NO_KUBECTL:-} ]] && command -v kubectl >/dev/null &&
   kubectl kustomize --help >/dev/null 2>&1; then
  KUBECTL=kubectl
else
  echo "NOTE  kubectl not found: rendering with $VDIR/kustomize-lite.mjs only"
fi
for dir in deploy/k8s/base deploy/k8s/overlays/*/; do
  dir="${dir%/}"
  name="${dir#deploy/k8s/}"
  out="$WORK/${name//\//_}.yaml"
  if [[ -n $KUBECTL ]]; then
    step "render $name (kubectl kustomize)" sh -c "kubectl kustomize '$dir' > '$out'"
    step "kustomize-lite renders $name like kubectl" sh -c \
      "node '$VDIR/kustomize-lite.mjs' '$dir' > '$out.lite' && node '$VDIR/compare-renders.mjs' '$out' '$out.lite'"
  else
    step "render $name (kustomize-lite)" sh -c "node '$VDIR/kustomize-lite.mjs' '$dir' > '$out'"
  fi
  [[ -s $out ]] && step "validate $name" node "$VDIR/validate.mjs" "$out"
done
step "validate deploy/k8s/extras (schema only)" node "$VDIR/validate.mjs" --schema-only deploy/k8s/extras/*.yaml

# 4-5. Manifests against the binaries ------------------------------------------
if [[ -z $BUILD_DIR && -d build ]]; then BUILD_DIR=build; fi
find_bin() { [[ -n $BUILD_DIR && -d $BUILD_DIR ]] && find "$BUILD_DIR" -type f -name "$1" -perm -u+x 2>/dev/null | head -n1; }
REWARDD="$(find_bin rewardd)"
CLI="$(find_bin reward-cli)"
if [[ -n $REWARDD ]]; then
  step "manifests agree with $REWARDD" tests/deploy/check_manifests_agree.py "$REWARDD"
else
  step "manifests agree with rewardd (static checks only)" tests/deploy/check_manifests_agree.py
  skip "manifest flags against rewardd --helpfull and live start" "no rewardd binary (pass --build-dir)"
fi
if [[ -n $REWARDD ]]; then
  step "Dockerfile runtime packages cover ${REWARDD##*/}${CLI:+ and reward-cli}" \
    tests/deploy/check_runtime_deps.py $REWARDD $CLI
else
  skip "Dockerfile runtime packages" "no rewardd binary (pass --build-dir)"
fi

echo "validate-deploy: $passed passed, $failed failed, $skipped skipped"
echo "$passed passed, $failed failed"
((failed == 0))
