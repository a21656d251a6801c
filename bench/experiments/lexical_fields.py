"""Which lexical query shape wins on a mixed-language catalog: per-language fields, one agnostic field, or both.

    python bench/experiments/lexical_fields.py --shopee ../shared/data/shopee/dev.csv [--queries 3000]

Research, not product code: it indexes the Shopee dev titles once (language
detected as ingest does, vectors from the configured encoder, cached under
/tmp) into the products mapping plus a plain `standard` field, then runs each
lexical variant over the tuning part of the 70/30 query split (every title a
query, its own document removed) and prints nDCG@10 overall and by whether a
relevant title sits in the query's own detected language. The product's
choice (README, "Lexical fields") was made from these rows.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from lingodex.search_templates.relevance.evaluation import JudgedQuery, evaluate, ranking  # noqa: E402

CACHE = Path("/tmp/lingodex-lexical-fields")
INDEX = "bench-lexical-fields"
SIMILARITIES = {"k12_b03": (1.2, 0.3), "k08_b05": (0.8, 0.5), "k16_b075": (1.6, 0.75), "k12_b1": (1.2, 1.0)}


def load_shopee(path: Path) -> tuple[list[dict[str, str]], dict[str, list[str]]]:
    with path.open(encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle) if row["title"].strip()]
    groups: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        groups[row["label_group"]].append(row["posting_id"])
    return rows, groups


def cached(name: str, compute: Callable[[], Any]) -> Any:
    CACHE.mkdir(exist_ok=True)
    path = CACHE / name
    if path.with_suffix(".npy").exists():
        return np.load(path.with_suffix(".npy"))
    if path.with_suffix(".json").exists():
        return json.loads(path.with_suffix(".json").read_text())
    value = compute()
    if isinstance(value, np.ndarray):
        np.save(path.with_suffix(".npy"), value)
    else:
        path.with_suffix(".json").write_text(json.dumps(value))
    return value


def build_index(client, rows, languages, vectors, identity, analyzed) -> None:  # noqa: ANN001
    from lingodex.ingest.index.documents import PreparedRecord, to_document
    from lingodex.ingest.index.indexer import bulk_index, recreate_index
    from lingodex.ingest.catalog.language import LanguageGuess
    from lingodex.ingest.index.mappings import PRODUCTS, index_body
    from lingodex.ingest.catalog.schema import CatalogProduct

    body = index_body(PRODUCTS, encoder=identity)
    properties = body["mappings"]["properties"]
    properties["plain"] = {"type": "text", "analyzer": "standard"}
    body["settings"]["index"]["similarity"] = {name: {"type": "BM25", "k1": k1, "b": b}
                                               for name, (k1, b) in SIMILARITIES.items()}
    body["settings"]["analysis"]["filter"]["lingodex_bigrams"] = {"type": "shingle", "min_shingle_size": 2,
                                                                  "max_shingle_size": 2, "output_unigrams": False}
    body["settings"]["analysis"]["analyzer"]["lingodex_bigrams"] = {
        "type": "custom", "tokenizer": "icu_tokenizer", "filter": ["icu_normalizer", "icu_folding", "lingodex_bigrams"]}
    body["settings"]["analysis"]["tokenizer"] = {"lingodex_trigrams": {"type": "ngram", "min_gram": 3, "max_gram": 3,
                                                                      "token_chars": ["letter", "digit"]}}
    body["settings"]["analysis"]["analyzer"]["lingodex_trigrams"] = {
        "type": "custom", "tokenizer": "lingodex_trigrams", "filter": ["icu_normalizer", "icu_folding"]}
    properties["title_all"]["fields"] = {"bigrams": {"type": "text", "analyzer": "lingodex_bigrams"},
                                         "trigrams": {"type": "text", "analyzer": "lingodex_trigrams"}}
    extra = ["plain"]
    for name in SIMILARITIES:
        properties[f"title_all_{name}"] = {"type": "text", "analyzer": "icu_analyzer", "similarity": name}
        extra.append(f"title_all_{name}")
    for lang_field in properties["title"]["properties"].values():
        lang_field["copy_to"] = [*np.atleast_1d(lang_field.get("copy_to", [])).tolist(), *extra]
    recreate_index(client, INDEX, body)
    documents = []
    for i, row in enumerate(rows):
        record = PreparedRecord(position=i, product=CatalogProduct(id=row["posting_id"], title=row["title"]),
                                language=LanguageGuess(languages[i], 1.0, "detected"))
        documents.append(to_document(record, vectors[i].tolist(), analyzed))
        if len(documents) == 500:
            assert not bulk_index(client, INDEX, documents).rejected
            documents = []
    bulk_index(client, INDEX, documents, refresh=True)


def run_variant(client, build: Callable[[str, str], dict], queries: list[JudgedQuery], size: int = 100) -> dict:  # noqa: ANN001
    run = {}
    for start in range(0, len(queries), 200):
        chunk = queries[start:start + 200]
        lines: list[dict] = []
        for query in chunk:
            lines += [{"index": INDEX}, {"size": size + 1, "_source": False, "query": build(query.text, query.lang)}]
        for query, response in zip(chunk, client.msearch(body=lines)["responses"], strict=True):
            if "error" in response:
                raise RuntimeError(response["error"])
            hits = [(hit["_id"], hit["_score"]) for hit in response["hits"]["hits"] if hit["_id"] != query.id]
            run[query.id] = ranking(hits[:size])
    return run


def own(lang: str, analyzed: list[str]) -> str:
    return lang if lang in analyzed else "other"


def variants(analyzed: list[str]) -> dict[str, Callable[[str, str], dict]]:
    def shipped(text: str, lang: str) -> dict:
        o = own(lang, analyzed)
        others = [f"title.{x}^0.5" for x in ("en", "other") if x != o]
        should = [{"multi_match": {"query": text, "type": "best_fields", "fields": [f"title.{o}^3", f"description.{o}^1"]}},
                  {"match": {"exact": {"query": text, "boost": 2.0}}},
                  {"match": {"brand.text": {"query": text, "boost": 1.5}}}]
        if others:
            should.append({"multi_match": {"query": text, "type": "best_fields", "fields": others}})
        return {"bool": {"should": should, "minimum_should_match": 1}}

    def plain(text: str, lang: str) -> dict:
        return {"match": {"plain": text}}

    def icu_all(text: str, lang: str) -> dict:
        return {"match": {"title_all": text}}

    def all_plus_own(weight: float) -> Callable[[str, str], dict]:
        def build(text: str, lang: str) -> dict:
            o = own(lang, analyzed)
            return {"bool": {"should": [{"match": {"title_all": text}},
                                        {"match": {f"title.{o}": {"query": text, "boost": weight}}}]}}
        return build

    def dismax(tie: float, weight: float = 1.0) -> Callable[[str, str], dict]:
        def build(text: str, lang: str) -> dict:
            o = own(lang, analyzed)
            return {"dis_max": {"tie_breaker": tie, "queries": [
                {"match": {"title_all": text}}, {"match": {f"title.{o}": {"query": text, "boost": weight}}}]}}
        return build

    def most_fields_all(text: str, lang: str) -> dict:
        fields = ["title_all"] + [f"title.{x}" for x in [*analyzed, "other"]]
        return {"multi_match": {"query": text, "type": "most_fields", "fields": fields}}

    def best_fields_all(tie: float) -> Callable[[str, str], dict]:
        def build(text: str, lang: str) -> dict:
            fields = ["title_all"] + [f"title.{x}" for x in [*analyzed, "other"]]
            return {"multi_match": {"query": text, "type": "best_fields", "tie_breaker": tie, "fields": fields}}
        return build

    def with_exact(base: Callable[[str, str], dict], boost: float) -> Callable[[str, str], dict]:
        def build(text: str, lang: str) -> dict:
            return {"bool": {"should": [base(text, lang), {"match": {"exact": {"query": text, "boost": boost}}}]}}
        return build

    def similarity(name: str) -> Callable[[str, str], dict]:
        return lambda text, lang: {"match": {f"title_all_{name}": text}}

    def most_fields_exact(text: str, lang: str) -> dict:
        return {"bool": {"should": [most_fields_all(text, lang), {"match": {"exact": {"query": text, "boost": 0.2}}}]}}

    def bigrams(weight: float) -> Callable[[str, str], dict]:
        def build(text: str, lang: str) -> dict:
            return {"bool": {"should": [{"match": {"title_all": text}},
                                        {"match": {"title_all.bigrams": {"query": text, "boost": weight}}},
                                        {"match": {"exact": {"query": text, "boost": 0.2}}}]}}
        return build

    def trigrams_msm(weight: float, msm: str) -> Callable[[str, str], dict]:
        def build(text: str, lang: str) -> dict:
            return {"bool": {"should": [{"match": {"title_all": text}}, {"match": {"exact": {"query": text, "boost": 0.2}}},
                                        {"match": {"title_all.trigrams": {"query": text, "boost": weight,
                                                                          "minimum_should_match": msm}}}]}}
        return build

    def trigrams(weight: float, fuzzy: bool = False) -> Callable[[str, str], dict]:
        def build(text: str, lang: str) -> dict:
            main = {"match": {"title_all": {"query": text, "fuzziness": "AUTO", "prefix_length": 1}}} if fuzzy else \
                {"match": {"title_all": text}}
            should = [main, {"match": {"exact": {"query": text, "boost": 0.2}}}]
            if weight:
                should.append({"match": {"title_all.trigrams": {"query": text, "boost": weight}}})
            return {"bool": {"should": should}}
        return build

    return {
        "title_all + trigrams 0.3 (50% match) + exact 0.2": trigrams_msm(0.3, "50%"),
        "title_all + trigrams 0.3 (30% match) + exact 0.2": trigrams_msm(0.3, "30%"),
        "title_all + trigrams 0.3 (-70% missing) + exact 0.2": trigrams_msm(0.3, "-70%"),
        "title_all + trigrams 0.05 + exact 0.2": trigrams(0.05), "title_all + trigrams 0.1 + exact 0.2": trigrams(0.1),
        "title_all + trigrams 0.3 + exact 0.2": trigrams(0.3), "title_all + trigrams 0.5 + exact 0.2": trigrams(0.5),
        "title_all + trigrams 1 + exact 0.2": trigrams(1.0), "title_all + trigrams 2 + exact 0.2": trigrams(2.0), "title_all fuzzy + exact 0.2": trigrams(0.0, True),
        "title_all + bigrams 0.2 + exact 0.2": bigrams(0.2), "title_all + bigrams 0.5 + exact 0.2": bigrams(0.5),
        "title_all + bigrams 1 + exact 0.2": bigrams(1.0),
        **{f"title_all {name}": similarity(name) for name in SIMILARITIES},
        "all + own 0.1": all_plus_own(0.1), "all + own 0.1 + exact 0.2": with_exact(all_plus_own(0.1), 0.2),
        "most_fields all + exact 0.2": most_fields_exact, "dismax t0 own 0.8": dismax(0.0, 0.8),
        "shipped": shipped, "plain standard": plain, "title_all (icu)": icu_all,
        "all + own 0.5": all_plus_own(0.5), "all + own 1": all_plus_own(1.0), "all + own 0.25": all_plus_own(0.25),
        "dismax all/own t0.3": dismax(0.3), "dismax all/own t0.5": dismax(0.5), "dismax t0.5 own1.5": dismax(0.5, 1.5),
        "most_fields all langs": most_fields_all, "best_fields all langs t0.3": best_fields_all(0.3),
        "title_all + exact 0.5": with_exact(icu_all, 0.5), "title_all + exact 0.2": with_exact(icu_all, 0.2),
        "all+own0.5 + exact0.2": with_exact(all_plus_own(0.5), 0.2),
    }


def bucket(query_id: str) -> float:
    return int(hashlib.sha256(query_id.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


def main() -> None:
    from lingodex.encoder import load_encoder
    from lingodex.ingest.catalog.language import LanguageDetector
    from lingodex.ingest.index.mappings import PRODUCTS, EncoderIdentity, language_fields
    from lingodex.connection import opensearch_client
    from lingodex.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shopee", type=Path, required=True)
    parser.add_argument("--queries", type=int, default=3000)
    parser.add_argument("--held-out", action="store_true", help="score the held-out 30 %% instead of the tuning part")
    parser.add_argument("--only", default="", help="comma-separated variant names")
    parser.add_argument("--reindex", action="store_true")
    args = parser.parse_args()
    settings = load_settings()
    client = opensearch_client(settings.opensearch)
    rows, groups = load_shopee(args.shopee)
    detector = LanguageDetector(settings.ingest.detect_languages, settings.ingest.min_language_confidence)
    languages = cached("languages", lambda: [detector.detect(row["title"]).code for row in rows])
    analyzed = language_fields(PRODUCTS)
    if args.reindex or not client.indices.exists(index=INDEX):
        encoder = load_encoder(settings.encoder)
        vectors = cached("passages", lambda: encoder.encode_passages([row["title"] for row in rows]))
        build_index(client, rows, languages, vectors,
                    EncoderIdentity(encoder.model_id, encoder.fingerprint, encoder.dimension), analyzed)
    lang_of = {row["posting_id"]: languages[i] for i, row in enumerate(rows)}
    group_of = {row["posting_id"]: row["label_group"] for row in rows}
    judged = [JudgedQuery(row["posting_id"], row["title"], lang_of[row["posting_id"]],
                          {other: 1 for other in groups[row["label_group"]] if other != row["posting_id"]})
              for row in rows if (bucket(row["posting_id"]) < 0.3) == args.held_out]
    judged = judged[:args.queries]
    mixed = {q.id: "own-lang rel" if any(lang_of[d] == q.lang for d in q.relevant) else "no own-lang rel" for q in judged}
    del group_of
    print(f"{len(judged)} queries; {sum(v == 'no own-lang rel' for v in mixed.values()) / len(judged):.0%} without a "
          "relevant title in their own detected language")
    print("| variant | nDCG@10 | own-lang rel | no own-lang rel | R@100 |\n| --- | --- | --- | --- | --- |")
    only = {name for name in args.only.split(",") if name}
    for name, build in variants(analyzed).items():
        if only and name not in only:
            continue
        run = run_variant(client, build, judged)
        report = evaluate(judged, run, mixed)
        cells = [report.overall["ndcg@10"], report.per_language.get("own-lang rel", {}).get("ndcg@10", 0),
                 report.per_language.get("no own-lang rel", {}).get("ndcg@10", 0), report.overall["recall@100"]]
        print(f"| {name} | " + " | ".join(f"{cell:.3f}" for cell in cells) + " |", flush=True)


if __name__ == "__main__":
    main()
