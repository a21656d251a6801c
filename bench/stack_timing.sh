#!/usr/bin/env bash
# Times the local stack as a newcomer meets it:
#   cold: `make opensearch-up` with an empty LINGODEX_HOME and an empty Maven
#         repository (every artifact downloaded, analysis plugins compiled);
#   warm: `make opensearch-up` again once installed (node stopped in between).
# Usage: bash bench/stack_timing.sh            (stops any node on :9200 first)
set -euo pipefail
cd "$(dirname "$0")/.."
make -s opensearch-down >/dev/null 2>&1 || true
scratch="$(mktemp -d)"; chmod 755 "$scratch"   # the node runs as an unprivileged user
trap 'LINGODEX_HOME=$scratch/home make -s opensearch-down >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
export LINGODEX_HOME="$scratch/home"
export MAVEN_OPTS="-Dmaven.repo.local=$scratch/m2 --sun-misc-unsafe-memory-access=allow"

start=$SECONDS; make -s opensearch-up; cold=$((SECONDS - start))
make -s opensearch-down
start=$SECONDS; make -s opensearch-up; warm=$((SECONDS - start))
echo "opensearch-up cold_s=$cold warm_s=$warm downloaded_MiB=$(du -sm "$scratch/m2" | cut -f1)"
