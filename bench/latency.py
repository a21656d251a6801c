"""Serving throughput: `/embed` under concurrent load, with and without micro-batching, beside the encoder's own ceiling.

    python bench/latency.py [--concurrency 16] [--seconds 30]      # needs wrk (Debian: apt-get install wrk)

For two workloads, short queries (a few words, query prefix) and passages
(~50 words, passage prefix):
- the encoder in this process, one text per call vs 16 per call: what
  batching can gain at most on this machine;
- `lingodex serve` started with `serve.batch_wait_ms` 0 (every request its own
  encoder call) and with the shipped 5 ms (concurrent requests share one),
  loaded by wrk (C, a second process: the load generator costs little of the
  CPU the server needs) with ``--concurrency`` connections, one text per
  request, after a 5 s warm-up. Requests/s, p50/p99 latency, and texts per
  encoder call from the server's own /metrics.
Ratios: batched / unbatched, and served / the encoder alone.

Search latency (lexical, dense, hybrid on 100k products): bench/search_latency.py.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PASSAGE = ("Wireless noise cancelling over-ear headphones with 30 hour battery life, fast charging over USB-C, "
           "multipoint Bluetooth 5.3 pairing with two devices, foldable design with a hard travel case, soft protein "
           "leather ear cushions and a built-in microphone for calls")
QUERIES = ["wireless noise cancelling headphones", "Kabellose Kopfhörer", "auriculares inalámbricos",
           "mechanical keyboard RGB", "tas selempang pria kulit", "garrafa térmica inox", "Laufschuhe Herren leicht",
           "sepatu running wanita"]
WORKLOADS = {"short queries": ("query", QUERIES), "passages (~50 words)": ("passage", [PASSAGE])}
WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local texts = {%s}
local i = 0
request = function()
  i = i + 1
  return wrk.format(nil, "/embed", nil, '{"prompt_name": "%s", "inputs": ["' .. i .. ' ' .. texts[(i %% #texts) + 1] .. '"]}')
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def encoder_ceiling(role: str, texts: list[str], count: int = 256) -> tuple[float, float]:
    """(texts/s one per call, texts/s 16 per call) of the configured encoder in this process."""
    from lingodex.encoder import load_encoder
    from lingodex.settings import load_settings

    encoder = load_encoder(load_settings().encoder)
    encode = encoder.encode_queries if role == "query" else encoder.encode_passages
    batch = [f"{i} {texts[i % len(texts)]}" for i in range(count)]
    encode(batch[:16])
    started = time.perf_counter()
    for text in batch:
        encode([text])
    one = count / (time.perf_counter() - started)
    started = time.perf_counter()
    for start in range(0, count, 16):
        encode(batch[start:start + 16])
    return one, count / (time.perf_counter() - started)


def start_server(wait_ms: float, logs: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "LINGODEX_SERVE__BATCH_WAIT_MS": str(wait_ms), "HF_HUB_OFFLINE": "1"}
    with (logs / f"serve-{wait_ms}.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, "-m", "lingodex.cli", "serve", "--port", str(port)], env=env,
                                   stdout=log, stderr=subprocess.STDOUT, cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                return process, url
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"lingodex serve did not become ready; see {logs}")


def encoder_calls(url: str) -> tuple[float, float]:
    """(encoder calls, texts) so far, from the server's batch-size histogram."""
    calls = texts = 0.0
    for line in httpx.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("lingodex_embed_batch_texts_count"):
            calls += float(line.split()[-1])
        elif line.startswith("lingodex_embed_batch_texts_sum"):
            texts += float(line.split()[-1])
    return calls, texts


def wrk(url: str, script: Path, concurrency: int, seconds: float) -> tuple[float, float, float]:
    """(requests/s, p50 ms, p99 ms)."""
    done = subprocess.run(["wrk", "-t2", f"-c{concurrency}", f"-d{seconds:.0f}s", "--latency", "-s", str(script), url],
                          capture_output=True, text=True, check=True)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", done.stdout).group(1))  # type: ignore[union-attr]

    def percentile(name: str) -> float:
        value, unit = re.search(rf"\s{name}%\s+([\d.]+)(us|ms|s)", done.stdout).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rate, percentile("50"), percentile("99")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is missing: apt-get install wrk")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; concurrency {args.concurrency}, "
          f"{args.seconds:.0f} s per run\n", flush=True)
    print("| workload | encoder alone: 1 / 16 per call (texts/s) | serve, batching off: req/s, p50/p99 ms | "
          "serve, batching on: req/s, p50/p99 ms, texts per call | batched / unbatched | served / encoder alone |")
    print("| --- | --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as scratch:
        logs = Path(scratch)
        for name, (role, texts) in WORKLOADS.items():
            one, sixteen = encoder_ceiling(role, texts)
            script = logs / f"{role}.lua"
            script.write_text(WRK_SCRIPT % (", ".join(f'"{text}"' for text in texts), role), encoding="utf-8")
            runs = []
            for wait_ms in (0.0, 5.0):
                process, url = start_server(wait_ms, logs)
                try:
                    wrk(url, script, args.concurrency, 5)  # warm-up
                    before = encoder_calls(url)
                    rate, p50, p99 = wrk(url, script, args.concurrency, args.seconds)
                    after = encoder_calls(url)
                finally:
                    process.send_signal(signal.SIGTERM)
                    process.wait(timeout=60)
                runs.append((rate, p50, p99, (after[1] - before[1]) / max(after[0] - before[0], 1)))
            (off, off50, off99, _), (on, on50, on99, per_call) = runs
            print(f"| {name} | {one:.0f} / {sixteen:.0f} ({sixteen / one:.2f}×) | {off:.0f}, {off50:.0f}/{off99:.0f} | "
                  f"{on:.0f}, {on50:.0f}/{on99:.0f}, {per_call:.1f} | {on / off:.2f}× | {on / sixteen:.2f}× |",
                  flush=True)


if __name__ == "__main__":
    main()
