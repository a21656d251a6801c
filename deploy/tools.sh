#!/usr/bin/env bash
# Static checks of deploy/ need two tools that PyPI does not carry: helm, and the
# docker compose plugin (the docker client here has none). Both are built from
# the Go module proxy into .tools/ (ignored by git), once per version; hadolint
# and kubernetes-validate come with the `test` extra from PyPI.
#
#   bash deploy/tools.sh          # then: .tools/bin/helm, DOCKER_CONFIG=.tools/docker docker compose
set -euo pipefail
cd "$(dirname "$0")/.."

HELM_VERSION=v3.22.0        # helm.sh/helm/v3
COMPOSE_VERSION=v2.40.3     # github.com/docker/compose/v2 (v5.x needs a newer Go than this machine's)

tools=$PWD/.tools
mkdir -p "$tools/bin" "$tools/docker/cli-plugins"
command -v go >/dev/null || { echo "[tools] go is needed (Debian: golang-go, or go.dev/dl)" >&2; exit 1; }
export GOFLAGS=-mod=mod GOTOOLCHAIN=local

built() {  # name version: whether .tools holds that version already
  [[ -x "$1" && "$(cat "$1.version" 2>/dev/null)" == "$2" ]]
}

if ! built "$tools/bin/helm" "$HELM_VERSION"; then
  echo "[tools] building helm $HELM_VERSION (first time: a few minutes)"
  GOBIN=$tools/bin go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$HELM_VERSION" > "$tools/bin/helm.version"
fi

plugin=$tools/docker/cli-plugins/docker-compose
if ! built "$plugin" "$COMPOSE_VERSION"; then
  echo "[tools] building docker compose $COMPOSE_VERSION (first time: several minutes)"
  # built inside its own module: `go install mod@version` refuses go.mod files with exclude directives
  source_dir=$(go mod download -json "github.com/docker/compose/v2@$COMPOSE_VERSION" | grep '"Dir"' | cut -d'"' -f4)
  (cd "$source_dir" && GOFLAGS=-mod=readonly go build -trimpath -o "$plugin" \
    -ldflags "-X github.com/docker/compose/v2/internal.Version=$COMPOSE_VERSION" ./cmd)
  echo "$COMPOSE_VERSION" > "$plugin.version"
fi
echo "[tools] $("$tools/bin/helm" version --short), docker compose $(DOCKER_CONFIG=$tools/docker docker compose version --short)"
