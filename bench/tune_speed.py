"""How long `tune`'s fusion stage takes on many judged queries: the array grid against fusing in Python.

    python bench/tune_speed.py [--queries 12000]

Synthetic windows of the shape `tune` fetches: 200 lexical and 200 dense hits
per query over a 17,000-product catalog (overlapping), five relevant products
each, three query languages. Times `tune_windows` (the whole fusion stage:
pooled and per-language choices, held-out checks) with the array grid, then
one candidate fused in Python and scored with trec_eval (`tuning.score`, the
grid's reference), and reports the stage's peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lingodex.search_templates.fusion import Ranked  # noqa: E402
from lingodex.search_templates.relevance.evaluation import JudgedQuery  # noqa: E402
from lingodex.search_templates.relevance.tuning import candidates, score, tune_windows  # noqa: E402
from lingodex.search_templates.search_params import LanguageParams, SearchParams  # noqa: E402


def synthetic(count: int, seed: int = 0) -> tuple[list[JudgedQuery], dict[str, list[Ranked]]]:
    rng = random.Random(seed)
    judged, windows = [], {}
    for i in range(count):
        docs = [f"d{rng.randrange(17_000)}" for _ in range(400)]
        lexical = sorted(((doc, rng.uniform(0, 30)) for doc in dict.fromkeys(docs[:200])), key=lambda hit: -hit[1])
        dense = sorted(((doc, rng.uniform(0.5, 0.95)) for doc in dict.fromkeys(docs[150:350])), key=lambda hit: -hit[1])
        judged.append(JudgedQuery(f"q{i}", "text", rng.choice(["en", "id", "und"]), {doc: 1 for doc in rng.sample(docs, 5)}))
        windows[f"q{i}"] = [Ranked(lexical), Ranked(dense)]
    return judged, windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=12_000)
    args = parser.parse_args()
    judged, windows = synthetic(args.queries)
    languages = {query.id: query.lang or "und" for query in judged}
    started = time.perf_counter()
    tune_windows(SearchParams(), judged, windows, languages, held_out=0.3, min_queries=30, min_window=100)
    stage = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    started = time.perf_counter()
    score(judged, windows, languages, LanguageParams())
    one = time.perf_counter() - started
    grid = len(candidates(LanguageParams(), 100)) + 1
    print(f"{args.queries} queries: fusion stage with the array grid {stage:.1f} s (peak RSS {rss:.0f} MiB); "
          f"Python fusion + trec_eval {one:.2f} s per candidate, {one * grid / 60:.1f} min per pass over {grid} candidates")


if __name__ == "__main__":
    main()
