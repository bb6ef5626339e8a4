#!/usr/bin/env bash
# Validates the deployment files and exits non-zero when any of them is broken:
#   1. renders deploy/base and every deploy/overlays/* with kustomize;
#   2. checks every rendered document, and the manifests of deploy/restore/ on their own (deploy/validate/check-manifests.mjs): Kubernetes schemas
#      from the `kubernetes-models` npm package, the operators' custom resources against their
#      schemas (CloudNativePG: `@kubernetes-models/cloudnative-pg`; RabbitmqCluster: the CRD
#      vendored in deploy/validate/crds/, with `ajv`), unknown fields, cross-references, every
#      service in apps/ deployed, no literal secrets. The npm packages, pinned below, are installed
#      under tmp/deploy-validators (or $DEPLOY_VALIDATORS_DIR) when missing;
#   3. validates docker-compose.yml with `docker compose config` (or docker-compose v1), with
#      .env.example and without any secret, and checks its structure the same way.
#
# Tools: kustomize, or kubectl with its built-in `kubectl kustomize` (needed); node and npm
# (needed); docker compose v2 or docker-compose (Debian: `apt-get install -y docker-compose`;
# without either, only the structural compose check runs, with a warning).
#
#   tools/validate-deploy.sh            # from anywhere in the repository
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" || exit 2
KUBERNETES_MODELS_VERSION=5.1.0
CLOUDNATIVE_PG_MODELS_VERSION=2.0.0
AJV_VERSION=8.17.1
VALIDATORS=(
  "kubernetes-models@$KUBERNETES_MODELS_VERSION"
  "@kubernetes-models/cloudnative-pg@$CLOUDNATIVE_PG_MODELS_VERSION"
  "ajv@$AJV_VERSION"
)
VALIDATORS_DIR="${DEPLOY_VALIDATORS_DIR:-$ROOT/tmp/deploy-validators}"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
failed=0

fail() {
  echo "FAIL: $*" >&2
  failed=1
}

# ---- 1. render ----------------------------------------------------------------------------------
if command -v kustomize >/dev/null 2>&1; then
  render() { kustomize build "$1"; }
  echo "kustomize: $(kustomize version 2>/dev/null | head -n1)"
elif command -v kubectl >/dev/null 2>&1 && kubectl kustomize --help >/dev/null 2>&1; then
  render() { kubectl kustomize "$1"; }
  echo "kustomize: kubectl kustomize ($(kubectl version --client 2>/dev/null | grep -i kustomize || echo 'version unknown'))"
else
  echo "FAIL: neither kustomize nor kubectl (with \`kubectl kustomize\`) is installed" >&2
  exit 2
fi

targets=(base)
for overlay in deploy/overlays/*/; do targets+=("overlays/$(basename "$overlay")"); done
render_args=()
for target in "${targets[@]}"; do
  name="$(basename "$target")"
  if render "deploy/$target" >"$OUT/$name.yaml" 2>"$OUT/$name.err"; then
    echo "rendered deploy/$target: $(grep -c '^kind:' "$OUT/$name.yaml") objects"
    render_args+=("$name=$OUT/$name.yaml")
  else
    fail "kustomize could not render deploy/$target:"
    sed 's/^/    /' "$OUT/$name.err" >&2
  fi
done

# ---- 2. schema and cross-reference checks -------------------------------------------------------
installed_version() {
  node -p "require('$VALIDATORS_DIR/node_modules/$1/package.json').version" 2>/dev/null
}
missing=()
for package in "${VALIDATORS[@]}"; do
  [ "$(installed_version "${package%@*}")" = "${package##*@}" ] || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} into ${VALIDATORS_DIR#"$ROOT"/}"
  mkdir -p "$VALIDATORS_DIR"
  if ! npm install --prefix "$VALIDATORS_DIR" --no-audit --no-fund --loglevel=error --save-exact \
    "${VALIDATORS[@]}" >"$OUT/npm.log" 2>&1; then
    cat "$OUT/npm.log" >&2
    fail "could not install ${missing[*]} (npm registry unreachable?)"
    exit 1
  fi
fi
compose_check_args=(--compose docker-compose.yml)
node deploy/validate/check-manifests.mjs --models "$VALIDATORS_DIR" "${render_args[@]}" "${compose_check_args[@]}" ||
  fail "manifest checks found problems (listed above)"
# Manifests applied by hand in a procedure (deploy/restore/: recovering PostgreSQL from backups).
for manifest in deploy/restore/*.yaml; do
  node deploy/validate/check-manifests.mjs --models "$VALIDATORS_DIR" --schemas-only \
    "${manifest#deploy/}=$manifest" || fail "$manifest: problems (listed above)"
done

# ---- 3. docker compose --------------------------------------------------------------------------
if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  compose=(docker-compose)
else
  compose=()
  echo "WARNING: neither \`docker compose\` nor docker-compose is installed: docker-compose.yml was only" \
    "checked structurally (apt-get install -y docker-compose for a schema check)" >&2
fi
if [ "${#compose[@]}" -gt 0 ]; then
  if "${compose[@]}" --env-file .env.example -f docker-compose.yml config -q 2>"$OUT/compose.err"; then
    echo "docker-compose.yml: valid ($("${compose[@]}" version --short 2>/dev/null || echo "${compose[*]}"))"
  else
    fail "docker-compose.yml is invalid:"
    sed 's/^/    /' "$OUT/compose.err" >&2
  fi
  # Without .env the secrets are missing, and compose must refuse rather than start with blanks.
  empty_env="$OUT/empty.env"
  : >"$empty_env"
  if env -u JWT_SECRET -u POSTGRES_PASSWORD -u RABBITMQ_PASSWORD \
    "${compose[@]}" --env-file "$empty_env" -f docker-compose.yml config -q >/dev/null 2>&1; then
    fail "docker-compose.yml accepts a configuration without JWT_SECRET, POSTGRES_PASSWORD and RABBITMQ_PASSWORD"
  else
    echo "docker-compose.yml: refuses to run without its secrets"
  fi
fi

if [ "$failed" -ne 0 ]; then
  echo "deploy validation FAILED" >&2
  exit 1
fi
echo "deploy validation passed"
