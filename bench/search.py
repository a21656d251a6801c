"""Retrieval quality beside the plainest baselines, per query language, in one run.

    python bench/search.py --tatoeba ../shared/data/tatoeba --shopee ../shared/data/shopee/dev.csv \
        [--queries-per-language 250] [--shopee-queries 0 (every title)]

Datasets (indexed with the configured encoder and the products mapping into
the local node, `make opensearch-up`):
- Tatoeba as cross-lingual search, both directions per language pair: the
  1,000 English sentences indexed and each X sentence the query for its
  translation (X→en), and the reverse (en→X). One relevant document each.
- Shopee dev titles: all titles indexed; every title a query (or a sample),
  the other titles of its group (same product) relevant, and the title itself
  excluded from the ranking (trec_eval-style: the query's own document never
  counts, for or against).

Columns, all on the held-out 30 % of a stable 70/30 split of the queries:
- plain BM25: one `standard` text field over all titles in a second index on
  the same node, default BM25, no language routing: the baseline to beat;
- lexical, dense: lingodex's two sub-queries alone; "no hubness penalty": the
  dense side ranked by its k-NN scores alone (hubness_penalty 0, ingest/index/hubness.py);
- plain+dense oracle: plain BM25 and dense fused (min-max, arithmetic mean)
  at the lexical weight that scores best on these very held-out queries;
- hybrid: lingodex at the shipped defaults; tuned: `lingodex tune`'s rule
  (pooled default, per-language choices, held-out gate) run on the 70 %.
Each query's lexical and dense windows are fetched once; hybrid is fused from
them with the cluster's arithmetic (tested equal to the neural-search pipeline).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lingodex.encoder import Encoder  # noqa: E402
from lingodex.search_templates import fusion  # noqa: E402
from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate, ranking  # noqa: E402
from lingodex.search_templates.search_params import LanguageParams, SearchParams  # noqa: E402
from lingodex.search_templates.searcher import HybridSearcher, fuse  # noqa: E402

TATOEBA = {"ara": "ar", "cmn": "zh", "deu": "de", "fra": "fr", "heb": "he", "hin": "hi", "ind": "id", "ita": "it",
           "jpn": "ja", "kor": "ko", "nld": "nl", "pol": "pl", "por": "pt", "rus": "ru", "spa": "es", "swe": "sv",
           "tha": "th", "tur": "tr", "vie": "vi"}
HELD_OUT = 0.3
DEPTH = 100
COLUMNS = ("plain BM25", "lexical", "dense, no hubness penalty", "dense", "plain+dense oracle", "hybrid, no hubness penalty",
           "hybrid", "tuned")
PLAIN_MAPPING = {"settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0}},
                 "mappings": {"properties": {"title": {"type": "text", "analyzer": "standard"}}}}

Doc = tuple[str, str, str]  # id, title, language
Windows = dict[str, list[fusion.Ranked]]


def index_texts(searcher: HybridSearcher, encoder: Encoder, index: str, docs: list[Doc], *, centring: bool) -> None:
    """(id, text, lang) as products with that title, embedded in this process (ingest speed is bench/ingest.py's).

    With ``centring``, language centroids are estimated as `lingodex ingest` does for a new version: from the
    first ``ingest.centring.sample`` documents and the shipped reference sentences.
    """
    from lingodex.ingest.batch import embed_records
    from lingodex.ingest.centring import estimate, language_sums, reference_sums
    from lingodex.ingest.index.documents import PreparedRecord
    from lingodex.ingest.index.index_versions import record_centroids
    from lingodex.ingest.index.hubness import score_unscored
    from lingodex.ingest.index.indexer import bulk_index, recreate_index
    from lingodex.ingest.catalog.language import LanguageGuess
    from lingodex.ingest.index.mappings import PRODUCTS, EncoderIdentity, index_body
    from lingodex.ingest.catalog.schema import CatalogProduct
    from lingodex.settings import load_settings

    identity = EncoderIdentity(encoder.model_id, encoder.fingerprint, encoder.dimension)
    recreate_index(searcher.client, index, index_body(PRODUCTS, encoder=identity))
    centroids = None
    if centring:
        settings = load_settings()
        sample = docs[:settings.ingest.centring.sample]
        centroids = estimate(language_sums(encoder, [text for _, text, _ in sample], [lang for _, _, lang in sample]),
                             reference_sums(encoder, settings.encoder.cache_dir), settings.ingest.centring.min_documents)
        record_centroids(searcher.client, index, centroids)
    for start in range(0, len(docs), 500):
        prepared = [PreparedRecord(position=i, product=CatalogProduct(id=doc_id, title=text),
                                   language=LanguageGuess(lang, 1.0, "declared"))
                    for i, (doc_id, text, lang) in enumerate(docs[start:start + 500], start=start + 1)]
        embedded = embed_records(prepared, encoder, {}, index, searcher.analyzed, centroids)
        outcome = bulk_index(searcher.client, index, embedded["documents"])
        if outcome.rejected:
            raise RuntimeError(f"{index}: refused {outcome.rejected[:2]}")
    searcher.client.indices.refresh(index=index)
    started = time.time()
    hubness = score_unscored(searcher.client, index, neighbours=load_settings().ingest.hubness.neighbours)
    print(f"{index}: {hubness.scored} isolation scores (median {hubness.median_isolation:.3f}), "
          f"{time.time() - started:.0f} s", flush=True)


def everywhere(params: SearchParams, **update: object) -> SearchParams:
    """``params`` with these fields set in the default and in every language's overrides."""
    return SearchParams(default=params.default.model_copy(update=update),
                        languages={lang: {**override, **update} for lang, override in params.languages.items()})


def without_hubness(params: SearchParams) -> SearchParams:
    """``params`` with hubness_penalty 0 in every language: dense search on the k-NN scores alone."""
    return everywhere(params, hubness_penalty=0.0)


def index_plain(client, index: str, docs: list[Doc]) -> None:  # noqa: ANN001 - OpenSearch
    """The baseline: every title in one standard-analysed field, no language anywhere."""
    from opensearchpy import helpers

    client.indices.delete(index=index, ignore_unavailable=True)
    client.indices.create(index=index, body=PLAIN_MAPPING)
    helpers.bulk(client, ({"_index": index, "_id": doc_id, "title": text} for doc_id, text, _ in docs), chunk_size=2000)
    client.indices.refresh(index=index)


def plain_windows(client, index: str, judged: Sequence[JudgedQuery]) -> dict[str, fusion.Ranked]:  # noqa: ANN001
    """Each query's plain-BM25 hits, DEPTH deep after its excluded documents are taken out."""
    found = {}
    for start in range(0, len(judged), 100):
        chunk = judged[start:start + 100]
        lines: list[dict] = []
        for query in chunk:
            lines += [{"index": index}, {"size": DEPTH + len(query.exclude), "_source": False,
                                         "query": {"match": {"title": query.text}}}]
        for query, response in zip(chunk, client.msearch(body=lines)["responses"], strict=True):
            hits = [(hit["_id"], float(hit["_score"])) for hit in response["hits"]["hits"]]
            found[query.id] = fusion.Ranked(query.without_excluded(hits)[:DEPTH])
    return found


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def tatoeba_tasks(directory: Path, per_language: int, rng: random.Random, only: set[str]):  # noqa: ANN201
    """(name, documents, judged queries) for X→en and en→X of every pair."""
    for iso3, lang in TATOEBA.items():
        if only and lang not in only:
            continue
        foreign = read_lines(directory / f"tatoeba.{iso3}-eng.{iso3}")
        english = read_lines(directory / f"tatoeba.{iso3}-eng.eng")
        sample = sorted(rng.sample(range(len(foreign)), min(per_language, len(foreign))))
        yield (f"tatoeba {lang}→en", [(str(i), text, "en") for i, text in enumerate(english)],
               [JudgedQuery(f"{lang}-{i}", foreign[i], lang, {str(i): 1}) for i in sample])
        yield (f"tatoeba en→{lang}", [(str(i), text, lang) for i, text in enumerate(foreign)],
               [JudgedQuery(f"en-{i}", english[i], "en", {str(i): 1}) for i in sample])


def shopee_task(path: Path, queries: int, rng: random.Random, detect: Callable,  # noqa: ANN201
                groups_held_out: float = 0.0, held_out_corpus: bool = False):
    """Every title (or ``queries`` of them) a query for the other titles of its group; its own title excluded.

    With ``groups_held_out``, only titles of the groups `lingodex finetune --held-out` kept out of training
    (the same stable hash) are queries, so a fine-tuned model is scored on products it never saw; every title
    stays indexed unless ``held_out_corpus``, which indexes only those groups' titles (the corpus
    bench/finetune.py searches), so no title the model was trained on is a distractor.
    """
    from lingodex.ingest.training_pairs import in_held_out

    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["title"].strip()]
    if held_out_corpus:
        rows = [row for row in rows if in_held_out(row["label_group"], groups_held_out)]
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        groups[row["label_group"]].append(row["posting_id"])
    languages = {row["posting_id"]: detect(row["title"]).code for row in rows}
    docs = [(row["posting_id"], row["title"], languages[row["posting_id"]]) for row in rows]
    candidates = [row for row in rows if len(groups[row["label_group"]]) > 1
                  and (not groups_held_out or in_held_out(row["label_group"], groups_held_out))]
    if 0 < queries < len(candidates):
        candidates = rng.sample(candidates, queries)
    judged = [JudgedQuery(row["posting_id"], row["title"], languages[row["posting_id"]],
                          {other: 1 for other in groups[row["label_group"]] if other != row["posting_id"]},
                          exclude=frozenset({row["posting_id"]}))
              for row in candidates]
    return "shopee", docs, judged


def fused_run(judged: Sequence[JudgedQuery], windows: Windows, params_of: Callable[[str], LanguageParams]) -> dict:
    """Each query fused with its own language's parameters (cut to their window), as an evaluation run."""
    run = {}
    for query in judged:
        params = params_of(query.id)
        cut = [fusion.Ranked(ranked.hits[:params.window]) for ranked in windows[query.id]]
        run[query.id] = ranking(fusion.ordered(fuse(cut, params)))
    return run


def oracle(judged: Sequence[JudgedQuery], plain: dict[str, fusion.Ranked], windows: Windows,
           languages: dict[str, str]) -> tuple[float, float]:
    """(best nDCG@10, its lexical weight) of plain BM25 + dense, min-max arithmetic, chosen on ``judged`` itself."""
    best = (-1.0, 0.0)
    both = {query.id: [plain[query.id], windows[query.id][1]] for query in judged}
    for step in range(11):
        params = LanguageParams(lexical_weight=step / 10, dense_weight=round(1 - step / 10, 1), window=DEPTH, k=DEPTH)
        value = evaluate(judged, fused_run(judged, both, lambda _, fixed=params: fixed), languages).overall["ndcg@10"]
        if value > best[0]:  # ties: the lower lexical weight
            best = (value, step / 10)
    return best


def report(name: str, searcher: HybridSearcher, index: str, plain_index: str, judged: list[JudgedQuery]) -> list[dict]:
    """Rows for all held-out queries and per query language (>= 10 held-out): every column, and what tuning chose."""
    from lingodex.search_templates.relevance.lexical_tuning import prepare_queries, tune_boosts
    from lingodex.search_templates.relevance.tuning import MIN_QUERIES, WINDOWS, fetch_windows, split, sub_query_run, tune_windows

    width = max(max(WINDOWS), DEPTH)
    prepared, languages = prepare_queries(searcher, index, judged)
    windows, _ = fetch_windows(searcher, index, judged, width, searcher.params, prepared)
    unpenalised, _ = fetch_windows(searcher, index, judged, width, without_hubness(searcher.params), prepared)
    plain = plain_windows(searcher.client, plain_index, judged)
    # `lingodex tune`'s two stages, on the windows already fetched where the lexical stage changed nothing
    boosted, _ = tune_boosts(searcher, index, searcher.params, judged, prepared, held_out=HELD_OUT,
                             min_queries=MIN_QUERIES)
    tuned_windows = windows if boosted == searcher.params else fetch_windows(searcher, index, judged, width, boosted,
                                                                             prepared)[0]
    tuned, _ = tune_windows(boosted, judged, tuned_windows, languages, held_out=HELD_OUT, min_queries=MIN_QUERIES,
                            min_window=searcher.params.default.window)
    _, held = split(judged, HELD_OUT)
    groups: dict[str, list[JudgedQuery]] = {"all": held}
    for query in held:
        groups.setdefault(languages[query.id], []).append(query)
    rows = []
    for group, queries in groups.items():
        if len(queries) < 10 or (group != "all" and len(groups) == 2):
            continue  # one language: its row is the "all" row
        scored = {
            "plain BM25": {query.id: ranking(plain[query.id].hits) for query in queries},
            "lexical": sub_query_run(queries, windows, 0),
            "dense, no hubness penalty": sub_query_run(queries, unpenalised, 1),
            "dense": sub_query_run(queries, windows, 1),
            "hybrid, no hubness penalty": fused_run(queries, unpenalised,
                                                    lambda qid: searcher.params.for_language(languages[qid])),
            "hybrid": fused_run(queries, windows, lambda qid: searcher.params.for_language(languages[qid])),
            "tuned": fused_run(queries, tuned_windows, lambda qid: tuned.for_language(languages[qid])),
        }
        row = {"dataset": name, "lang": group, "held_out": len(queries),
               "chosen": describe(tuned.for_language(group) if group != "all" else tuned.default)}
        row.update({column: evaluate(queries, run, languages).overall["ndcg@10"] for column, run in scored.items()})
        row["plain+dense oracle"], row["oracle weight"] = oracle(queries, plain, windows, languages)
        rows.append(row)
        print(format_row(row), flush=True)
    return rows


def describe(params: LanguageParams) -> str:
    fused = (f"rrf {params.rank_constant}" if params.fusion == "rrf" else
             f"{params.normalization}/{params.combination.split('_')[0]} {params.lexical_weight:.1f}")
    boosts = LanguageParams().boosts.model_dump()
    changed = [f"{name} {value:g}" for name, value in params.boosts.model_dump().items() if value != boosts[name]]
    return f"{fused}, w{params.window}" + (f"; boosts {', '.join(changed)}" if changed else "")


def format_row(row: dict) -> str:
    cells = [f"{row[column]:.3f}" for column in COLUMNS]
    verdicts = ("≥" if row["lexical"] >= row["plain BM25"] else "<",
                "≥" if row["tuned"] >= row["plain+dense oracle"] + 0.01 else "<")
    return (f"| {row['dataset']} | {row['lang']} | {row['held_out']} | " + " | ".join(cells) +
            f" | {row['oracle weight']:.1f} | {verdicts[0]} | {verdicts[1]} | {row['chosen']} |")


def main() -> None:
    from lingodex.encoder import load_encoder
    from lingodex.searching import build_searcher
    from lingodex.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--queries-per-language", type=int, default=250)
    parser.add_argument("--shopee-queries", type=int, default=0, help="0: every title with a group mate")
    parser.add_argument("--groups-held-out", type=float, default=0.0,
                        help="only titles of the groups `lingodex finetune --held-out SHARE` kept out are queries")
    parser.add_argument("--held-out-corpus", action="store_true",
                        help="with --groups-held-out: index only the held-out groups' titles, not every title")
    parser.add_argument("--languages", default="", help="comma-separated Tatoeba languages (default: all 19)")
    parser.add_argument("--no-tatoeba", action="store_true")
    parser.add_argument("--no-shopee", action="store_true")
    parser.add_argument("--keep-indices", action="store_true")
    parser.add_argument("--no-centring", action="store_true", help="index the encoder's vectors as they are")
    args = parser.parse_args()
    if args.held_out_corpus and not args.groups_held_out:
        parser.error("--held-out-corpus needs --groups-held-out")
    settings = load_settings()
    encoder = load_encoder(settings.encoder)
    print(f"encoder: {encoder.model_id} ({settings.encoder.precision})", flush=True)
    searcher = build_searcher(settings, encoder=encoder)
    rng = random.Random(20261122)
    started = time.time()
    print("nDCG@10 on held-out queries\n\n| dataset | lang | held-out q | " + " | ".join(COLUMNS) +
          " | oracle lexical weight | lexical ≥ plain | tuned ≥ oracle + 0.01 | tuned parameters |\n|" + " --- |" * 15)
    only = {lang for lang in args.languages.split(",") if lang}
    tasks = [] if args.no_tatoeba else list(tatoeba_tasks(args.tatoeba, args.queries_per_language, rng, only))
    if not args.no_shopee:
        tasks.append(shopee_task(args.shopee, args.shopee_queries, rng, searcher.detector.detect, args.groups_held_out,
                                 args.held_out_corpus))
    rows = []
    for number, (name, docs, judged) in enumerate(tasks):
        index, plain_index = f"bench-search-{number}", f"bench-search-plain-{number}"
        index_texts(searcher, encoder, index, docs, centring=not args.no_centring)
        index_plain(searcher.client, plain_index, docs)
        rows += report(name, searcher, index, plain_index, judged)
        if not args.keep_indices:
            searcher.client.indices.delete(index=f"{index},{plain_index}")
    for left, right, margin in (("lexical", "plain BM25", 0.0), ("tuned", "plain+dense oracle", 0.01),
                                ("tuned", "dense", 0.0)):
        met = sum(row[left] >= row[right] + margin for row in rows)
        print(f"{left} ≥ {right}{f' + {margin}' if margin else ''}: {met} of {len(rows)} rows")
    print(f"{time.time() - started:.0f} s")


if __name__ == "__main__":
    main()
