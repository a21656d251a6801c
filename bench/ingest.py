"""End-to-end ingest throughput against the encoder alone, on the same real titles, in one run.

    python bench/ingest.py --shopee ../shared/data/shopee/dev.csv [--limit 10000]

1. encoder only: the configured encoder (ONNX int8 on a CPU) embeds the titles in
   this process (the ceiling for any ingest pipeline on this machine);
2. `lingodex ingest` as a user runs it: CSV streamed with a field mapping,
   language detected (Shopee titles declare none), validated, embedded by a
   worker process over the embedded broker, bulk-indexed into the local node,
   refresh + alias swap included (--new-version, so every title is embedded);
3. the same load again into that version: every document unchanged, nothing embedded.

Prints docs/s for each and the ratios. Needs `make opensearch-up`.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

MAPPING = "fields: {id: posting_id, title: title}\nunknown: ignore\n"


def titles_csv(source: Path, limit: int, target: Path) -> list[str]:
    with source.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["title"].strip()][:limit]
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["posting_id", "title"])
        writer.writeheader()
        writer.writerows({"posting_id": row["posting_id"], "title": row["title"]} for row in rows)
    return [row["title"] for row in rows]


def encoder_only(titles: list[str]) -> float:
    from encoder import load_encoder
    from lingodex.settings import load_settings

    encoder = load_encoder(load_settings().encoder)
    encoder.encode_passages(titles[:256])
    start = time.perf_counter()
    encoder.encode_passages(titles)
    return len(titles) / (time.perf_counter() - start)


def cli_ingest(catalog: Path, mapping: Path, index: str, *options: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lingodex.cli", "ingest", str(catalog), "--index", index,
                           "--fields", str(mapping), *options],
                          capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"}, check=True)
    return time.perf_counter() - start, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True, help="Shopee CSV (posting_id,title,label_group)")
    parser.add_argument("--limit", type=int, default=10_000)
    parser.add_argument("--index", default="bench-ingest")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        catalog, mapping = Path(scratch) / "shopee.csv", Path(scratch) / "shopee.yaml"
        titles = titles_csv(args.shopee, args.limit, catalog)
        mapping.write_text(MAPPING)
        ceiling = encoder_only(titles)
        first_s, first_out = cli_ingest(catalog, mapping, args.index, "--new-version")
        again_s, again_out = cli_ingest(catalog, mapping, args.index)
    print(first_out.strip().splitlines()[-3:], again_out.strip().splitlines()[-3:], sep="\n")
    n = len(titles)
    print(f"| titles | encoder only docs/s | lingodex ingest docs/s (ratio) | re-run, unchanged docs/s |\n"
          f"| {n} | {ceiling:.0f} | {n / first_s:.0f} ({n / first_s / ceiling:.2f}x) | {n / again_s:.0f} |")


if __name__ == "__main__":
    main()
