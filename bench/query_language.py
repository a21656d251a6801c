"""How often is a short query's language right? Detection over all languages, restricted to the catalog's, and a locale.

    python bench/query_language.py --tatoeba ../shared/data/tatoeba [--per-language 150]

Queries of at most 4 words (8 characters in Chinese, Japanese and Thai, which
write no spaces), in 20 languages: Tatoeba sentences that short, and 2-4 word
fragments of the demo catalog's product titles and its queries (lingodex/data).
The detector is lingodex's (lingua over ingest.detect_languages, min confidence
ingest.min_language_confidence); 'und' counts as wrong.

Three tables:
1. every query, detection over all configured languages vs restricted to the
   languages of a catalog holding all 20;
2. catalogs of a few languages (a marketplace's): queries in those languages,
   all languages vs restricted to the catalog's;
3. a shop locale L (a catalog in L and English; the European catalog), queries
   half in L and half in the catalog's other languages: detection restricted to
   the catalog's; the locale alone; the locale as a prior p on the detector's
   confidences (search_templates/query_language.py). Accuracy on each half, and
   expected accuracy where 50, 80 or 95 % of queries are in L.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from search import TATOEBA  # noqa: E402  (bench/search.py: the Tatoeba pair files and their languages)
from lingodex.ingest.catalog.language import UNDETERMINED, LanguageDetector  # noqa: E402
from lingodex.settings import IngestSettings  # noqa: E402
from lingodex.search_templates.query_language import QueryLanguage  # noqa: E402

UNSPACED = {"zh", "ja", "th"}
SHOPS = {"Indonesian marketplace": ["id", "en"], "European shop": ["en", "de", "fr", "es", "it", "nl", "pt", "pl", "sv"],
         "East Asian marketplace": ["ja", "zh", "ko", "en"], "Middle East shop": ["ar", "he", "tr", "en"]}
PRIORS = (0.5, 0.7, 0.8, 0.9)
MIXES = (0.5, 0.8, 0.95)  # share of queries in the locale's language
FRAGMENTS = 3  # per demo title


def short(text: str, lang: str) -> bool:
    text = text.strip().rstrip(".!?。！？")
    return 0 < len(text) <= 8 if lang in UNSPACED else 1 <= len(text.split()) <= 4


def tatoeba_queries(folder: Path, per_language: int, rng: random.Random) -> list[tuple[str, str, str]]:
    """(text, language, source): short Tatoeba sentences, both sides of each pair (English from every pair)."""
    found: dict[str, list[str]] = defaultdict(list)
    for code, lang in TATOEBA.items():
        for side, side_lang in ((code, lang), ("eng", "en")):
            for line in (folder / f"tatoeba.{code}-eng.{side}").read_text(encoding="utf-8").splitlines():
                if short(line, side_lang):
                    found[side_lang].append(line.strip().rstrip(".!?。！？"))
    queries = []
    for lang, texts in found.items():
        texts = sorted(set(texts))
        rng.shuffle(texts)
        queries += [(text, lang, "tatoeba") for text in texts[:per_language]]
    return queries


def product_queries(rng: random.Random) -> list[tuple[str, str, str]]:
    """2-4 word fragments of the demo catalog's titles (CJK: 2-8 characters), and the demo's queries."""
    queries = []
    for line in (REPO / "lingodex/data/demo_catalog.jsonl").read_text(encoding="utf-8").splitlines() * FRAGMENTS:
        record = json.loads(line)
        lang, title = record["lang"], record["title"]
        if lang in UNSPACED:
            start = rng.randrange(max(1, len(title) - 4))
            queries.append((title[start:start + rng.randint(2, 8)], lang, "product"))
        else:
            words = title.split()
            length = rng.randint(2, min(4, len(words))) if len(words) >= 2 else 1
            start = rng.randrange(len(words) - length + 1)
            queries.append((" ".join(words[start:start + length]), lang, "product"))
    for query in yaml.safe_load((REPO / "lingodex/data/demo_queries.yaml").read_text(encoding="utf-8")):
        queries.append((query["text"], query["lang"], "product"))
    return queries


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(guess == truth for guess, truth in pairs) / max(1, len(pairs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tatoeba", type=Path, required=True)
    parser.add_argument("--per-language", type=int, default=150)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    queries = tatoeba_queries(args.tatoeba, args.per_language, rng) + product_queries(rng)
    defaults = IngestSettings()
    detector = LanguageDetector(defaults.detect_languages, defaults.min_language_confidence)
    resolver = QueryLanguage(detector)
    started = time.perf_counter()
    ranked = {text: detector.confidences(text) for text, _, _ in queries}
    seconds = time.perf_counter() - started
    langs = sorted({lang for _, lang, _ in queries})
    counts = defaultdict(int)
    for _, _, source in queries:
        counts[source] += 1

    def guess(text: str, among: list[str] | None) -> str:
        return resolver.resolve(text, catalog=among, ranked=ranked[text]).code

    print(f"# Query-language accuracy, {len(queries)} short queries ({counts['tatoeba']} Tatoeba, {counts['product']} "
          f"product fragments) in {len(langs)} languages; {platform.node()}, {time.strftime('%Y-%m-%d')}")
    print(f"# detection: {1000 * seconds / len(queries):.2f} ms per query\n")
    print("## 1. All queries: detection over the 27 configured languages vs restricted to a 20-language catalog\n")
    print("| language | queries | all languages | catalog's languages |\n| --- | --- | --- | --- |")
    rows = []
    for lang in langs:
        mine = [(text, truth) for text, truth, _ in queries if truth == lang]
        full = accuracy([(guess(text, None), truth) for text, truth in mine])
        kept = accuracy([(guess(text, langs), truth) for text, truth in mine])
        rows.append((len(mine), full, kept))
        print(f"| {lang} | {len(mine)} | {full:.3f} | {kept:.3f} |")
    total = sum(n for n, _, _ in rows)
    print(f"| **all** | {total} | {sum(n * a for n, a, _ in rows) / total:.3f} | "
          f"{sum(n * b for n, _, b in rows) / total:.3f} |")
    und = sum(guess(text, None) == UNDETERMINED for text, _, _ in queries) / len(queries)
    print(f"\n'und' (no language confident enough) over all languages: {und:.3f} of queries\n")

    print("## 2. Marketplaces of a few languages: their queries, all languages vs the catalog's\n")
    print("| catalog | languages | queries | all languages | catalog's languages |\n| --- | --- | --- | --- | --- |")
    for shop, catalog in SHOPS.items():
        mine = [(text, truth) for text, truth, _ in queries if truth in catalog]
        print(f"| {shop} | {', '.join(catalog)} | {len(mine)} | "
              f"{accuracy([(guess(text, None), truth) for text, truth in mine]):.3f} | "
              f"{accuracy([(guess(text, catalog), truth) for text, truth in mine]):.3f} |")

    print("\n## 3. A shop's locale L: queries half in L, half in the catalog's other languages (mean over each L)\n")
    mixes = " | ".join(f"{round(100 * mix)} % in L" for mix in MIXES)
    print(f"| catalog | rule | L queries | other queries | {mixes} |\n| --- | --- | --- | --- |{' --- |' * len(MIXES)}")
    columns = ["detection among the catalog's", "locale alone"] + [f"locale as prior {prior}" for prior in PRIORS]
    for shop, catalogs in {"L and English (19 L)": [[lang, "en"] for lang in langs if lang != "en"],
                           "European shop (9 L)": [SHOPS["European shop"]]}.items():
        scores: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for catalog in catalogs:
            for lang in (catalog[:1] if len(catalog) == 2 else catalog):
                local = [text for text, truth, _ in queries if truth == lang]
                others = [(text, truth) for text, truth, _ in queries if truth in catalog and truth != lang]
                others = rng.sample(others, min(len(others), len(local)))
                for column in columns:
                    def pick(text: str, column: str = column, lang: str = lang, catalog: list[str] = catalog) -> str:
                        if column.startswith("detection"):
                            return guess(text, catalog)
                        if column == "locale alone":
                            return lang
                        return resolver.resolve(text, locale=lang, catalog=catalog, ranked=ranked[text],
                                                locale_prior=float(column.rsplit(" ", 1)[1])).code
                    scores[column].append((accuracy([(pick(text), lang) for text in local]),
                                           accuracy([(pick(text), truth) for text, truth in others])))
        for column in columns:
            local_acc = sum(a for a, _ in scores[column]) / len(scores[column])
            other_acc = sum(b for _, b in scores[column]) / len(scores[column])
            mixed = " | ".join(f"{mix * local_acc + (1 - mix) * other_acc:.3f}" for mix in MIXES)
            print(f"| {shop} | {column} | {local_acc:.3f} | {other_acc:.3f} | {mixed} |")

if __name__ == "__main__":
    main()
