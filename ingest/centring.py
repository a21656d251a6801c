"""Language centroids: take each language's mean vector out so that neighbours are chosen by meaning, not language.

multilingual-e5 places every text of one language near that language's mean
vector, so a query's nearest neighbours are mostly in its own language whether
or not they answer it. Subtracting the mean of the text's language (and
re-normalising) removes most of that pull: README "Cross-lingual search" has
the measurements (bench/experiments/language_centring.py).

Per index version, frozen in its ``_meta.centring``:
- documents: ``normalize(v - passage_mean[lang])``; the length before
  normalising (``scale``) is stored with the document, so a later version can
  restore the raw vector and centre it anew instead of embedding again;
- queries: ``normalize(q - query_mean[lang])``, means of the same texts
  embedded with the query prefix (the prefix moves the mean too).
A language's means come from the catalog when the estimation sample has
``min_documents`` of it, else from the reference sentences the package ships
(ingest/reference/), else the sample's overall mean (also used for a query
whose language is unknown).
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from lingodex.encoder import Encoder
from lingodex.ingest.catalog.language import primary_subtag

REFERENCE_SENTENCES = Path(__file__).parent / "reference" / "sentences.tsv"
METHOD = "language-mean"
GLOBAL = "*"  # the mean over every language: for unknown languages


@dataclass(frozen=True)
class LanguageCentroid:
    passage: np.ndarray
    query: np.ndarray
    source: str  # "catalog", "reference" or "sample" (the overall mean)
    documents: int

    def to_meta(self) -> dict[str, Any]:
        return {"source": self.source, "documents": self.documents,
                "passage": _rounded(self.passage), "query": _rounded(self.query)}

    @classmethod
    def from_meta(cls, meta: dict[str, Any]) -> LanguageCentroid:
        return cls(np.asarray(meta["passage"], dtype=np.float32), np.asarray(meta["query"], dtype=np.float32),
                   meta["source"], int(meta["documents"]))


@dataclass(frozen=True)
class Centroids:
    """One index version's centroids: how its documents were centred and how its queries must be."""

    languages: dict[str, LanguageCentroid]  # GLOBAL among them

    @cached_property
    def id(self) -> str:
        """Content hash: two indices centred alike have the same id (computed once: it hashes every centroid)."""
        canonical = json.dumps({lang: c.to_meta() for lang, c in sorted(self.languages.items())}, sort_keys=True)
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]

    def of(self, lang: str | None) -> LanguageCentroid:
        """The centroid for ``lang`` ('pt-BR' as 'pt'); the overall mean when the language has none."""
        if lang:
            found = self.languages.get(lang) or self.languages.get(primary_subtag(lang))
            if found is not None:
                return found
        return self.languages[GLOBAL]

    def centre_passages(self, vectors: np.ndarray, langs: Sequence[str]) -> tuple[np.ndarray, list[float]]:
        """Centred unit vectors and each one's length before normalising (to restore it later)."""
        shifted = vectors - np.stack([self.of(lang).passage for lang in langs])
        scales = np.linalg.norm(shifted, axis=1)
        return shifted / np.maximum(scales, 1e-12)[:, None], [float(scale) for scale in scales]

    def centre_queries(self, vectors: np.ndarray, langs: Sequence[str | None]) -> np.ndarray:
        shifted = vectors - np.stack([self.of(lang).query for lang in langs])
        return shifted / np.maximum(np.linalg.norm(shifted, axis=1, keepdims=True), 1e-12)

    def restore(self, vector: Sequence[float], lang: str, scale: float) -> np.ndarray:
        """The encoder's vector back from a centred one (inverse of centre_passages)."""
        return np.asarray(vector, dtype=np.float32) * scale + self.of(lang).passage

    def to_meta(self) -> dict[str, Any]:
        return {"method": METHOD, "id": self.id, "languages": {lang: c.to_meta() for lang, c in self.languages.items()}}

    @classmethod
    def from_meta(cls, meta: dict[str, Any] | None) -> Centroids | None:
        """The centroids an index's ``_meta`` records; None for an index whose vectors are not centred."""
        centring = (meta or {}).get("centring")
        if not centring:
            return None
        if centring.get("method") != METHOD:
            raise ValueError(f"unknown centring method {centring.get('method')!r} (this lingodex knows {METHOD!r})")
        return cls({lang: LanguageCentroid.from_meta(c) for lang, c in centring["languages"].items()})


@dataclass
class LanguageSums:
    """Running sums of passage and query vectors per language: mergeable across batches and workers."""

    counts: dict[str, int] = field(default_factory=dict)
    passage: dict[str, np.ndarray] = field(default_factory=dict)
    query: dict[str, np.ndarray] = field(default_factory=dict)

    def add(self, lang: str, count: int, passage: ArrayLike, query: ArrayLike) -> None:
        self.counts[lang] = self.counts.get(lang, 0) + count
        self.passage[lang] = self.passage.get(lang, 0.0) + np.asarray(passage, dtype=np.float64)
        self.query[lang] = self.query.get(lang, 0.0) + np.asarray(query, dtype=np.float64)

    def merge(self, other: LanguageSums) -> None:
        for lang, count in other.counts.items():
            self.add(lang, count, other.passage[lang], other.query[lang])

    def mean(self, lang: str, source: str) -> LanguageCentroid:
        count = self.counts[lang]
        return LanguageCentroid((self.passage[lang] / count).astype(np.float32),
                                (self.query[lang] / count).astype(np.float32), source, count)

    def overall(self) -> LanguageCentroid:
        total = LanguageSums()
        for lang, count in self.counts.items():
            total.add(GLOBAL, count, self.passage[lang], self.query[lang])
        return total.mean(GLOBAL, "sample")

    def to_json(self) -> dict[str, Any]:
        """JSON-able: travels back from a worker task, and caches the reference sums on disk."""
        return {"counts": self.counts, "passage": {lang: v.tolist() for lang, v in self.passage.items()},
                "query": {lang: v.tolist() for lang, v in self.query.items()}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LanguageSums:
        sums = cls()
        for lang, count in data["counts"].items():
            sums.add(lang, count, data["passage"][lang], data["query"][lang])
        return sums


def language_sums(encoder: Encoder, texts: Sequence[str], langs: Sequence[str]) -> LanguageSums:
    """Embed ``texts`` both ways (passage and query prefix) and sum them per language."""
    sums = LanguageSums()
    if not texts:
        return sums
    passages, queries = encoder.encode_passages(texts), encoder.encode_queries(texts)
    primary = np.asarray([primary_subtag(lang) for lang in langs])
    for lang in sorted(set(primary)):
        rows = primary == lang
        sums.add(str(lang), int(rows.sum()), passages[rows].sum(axis=0), queries[rows].sum(axis=0))
    return sums


def estimate(sample: LanguageSums, reference: LanguageSums, min_documents: int) -> Centroids:
    """Catalog means where the sample has ``min_documents`` of a language, reference means for the other languages."""
    if not sample.counts:
        raise ValueError("no documents to estimate language centroids from")
    languages = {lang: reference.mean(lang, "reference") for lang in reference.counts}
    languages.update({lang: sample.mean(lang, "catalog") for lang, count in sample.counts.items()
                      if count >= min_documents})
    languages[GLOBAL] = sample.overall()
    return Centroids(languages)


def read_reference_sentences(path: Path = REFERENCE_SENTENCES, per_language: int | None = None) -> tuple[list[str], list[str]]:
    """(texts, languages) of the shipped reference sentences: all of them, or the first ``per_language`` of each."""
    rows = _first_per_language(_reference_rows(path), per_language)
    return [text for _, text, _ in rows], [lang for lang, _, _ in rows]


def read_reference_translations(path: Path = REFERENCE_SENTENCES, per_language: int | None = None) -> list[tuple[str, str]]:
    """(sentence, its English translation) of the shipped reference sentences of every language but English: all of
    them, or the first ``per_language`` of each. Fine-tuning mixes them in so that languages stay aligned."""
    translated = [row for row in _reference_rows(path) if row[2]]
    return [(text, english) for _, text, english in _first_per_language(translated, per_language)]


def _reference_rows(path: Path) -> list[tuple[str, str, str]]:
    """The file's rows: language, sentence, English translation (empty for the English sentences)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        lang, _, rest = line.partition("\t")
        text, _, english = rest.partition("\t")
        if text:
            rows.append((lang, text, english))
    return rows


def _first_per_language(rows: list[tuple[str, str, str]], per_language: int | None) -> list[tuple[str, str, str]]:
    """All ``rows``, or the first ``per_language`` of each language (a row's first field), in file order."""
    if per_language is None:
        return rows
    kept: Counter[str] = Counter()
    chosen = []
    for row in rows:
        if kept[row[0]] < per_language:
            kept[row[0]] += 1
            chosen.append(row)
    return chosen


def reference_sums(encoder: Encoder, cache_dir: Path | None = None) -> LanguageSums:
    """The reference sentences' sums for this encoder: embedded once per model, kept as JSON in ``cache_dir``."""
    path = cache_dir / f"reference-centroids-{encoder.fingerprint[:16]}.json" if cache_dir else None
    if path is not None and path.is_file():
        return LanguageSums.from_json(json.loads(path.read_text()))
    texts, langs = read_reference_sentences()
    sums = language_sums(encoder, texts, langs)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(sums.to_json()))
        tmp.replace(path)
    return sums


def _rounded(vector: np.ndarray) -> list[float]:
    return [round(float(x), 6) for x in vector]
