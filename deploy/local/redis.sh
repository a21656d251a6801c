#!/usr/bin/env bash
# A local Redis (Debian's redis-server) for Celery, on 127.0.0.1:${REDIS_PORT:-6379}.
#
#   redis.sh up | down | status
#
# Installs redis-server with apt-get when it is missing and we are root.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
LINGODEX_HOME="${LINGODEX_HOME:-$REPO/.lingodex}"
DIR="$LINGODEX_HOME/redis"
PORT="${REDIS_PORT:-6379}"

log() { printf '[redis] %s\n' "$*" >&2; }
die() { printf '[redis] ERROR: %s\n' "$*" >&2; exit 1; }

ensure_installed() {
  command -v redis-server >/dev/null && return
  (( EUID == 0 )) || die "redis-server is missing: sudo apt-get install -y redis-server"
  log "installing redis-server from Debian"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null; } \
    || die "apt-get could not install redis-server"
}

is_up() { redis-cli -p "$PORT" ping 2>/dev/null | grep -q PONG; }

case "${1:-}" in
  up)
    ensure_installed
    if is_up; then log "already answering on port $PORT"; exit 0; fi
    mkdir -p "$DIR"
    redis-server --bind 127.0.0.1 --port "$PORT" --daemonize yes --dir "$DIR" \
      --pidfile "$DIR/redis.pid" --logfile "$DIR/redis.log" --save "" --appendonly no \
      || die "redis-server did not start; see $DIR/redis.log"
    for _ in $(seq 50); do is_up && { log "up on 127.0.0.1:$PORT"; exit 0; }; sleep 0.1; done
    die "redis-server not answering on port $PORT; see $DIR/redis.log" ;;
  down)
    if is_up; then redis-cli -p "$PORT" shutdown nosave >/dev/null 2>&1 || true; log "stopped"; fi ;;
  status)
    is_up && log "up on 127.0.0.1:$PORT" || { log "not running on port $PORT"; exit 1; } ;;
  *) sed -n '2,6p' "${BASH_SOURCE[0]}"; exit 2 ;;
esac
