"""Hard negatives a keyword search would confuse with the positive: BM25 over the training corpus.

In a hybrid index the dense side earns its weight where BM25 is wrong: two listings that share most of their
words but are different products (another size, another model of the brand). Negatives mined by the model
itself teach what the model already half-knows; negatives mined by BM25 teach the dense side to disagree with
the lexical side exactly where the lexical side errs. Scored in-process (scipy sparse, Lucene's BM25 idf and
length norm, lower-cased word tokens): the training corpus is a file, not an index, and a few thousand titles
score in seconds.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from scipy import sparse

TOKEN = re.compile(r"\w+")
CHUNK = 512  # anchors scored at once: CHUNK x corpus floats


def bm25_matrix(token_lists: Sequence[Sequence[str]], k1: float = 1.2,
                b: float = 0.75) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """Documents x terms BM25 weights (Lucene's idf and length norm): a query's scores are its term indicator
    times this, transposed."""
    vocabulary: dict[str, int] = {}
    rows: list[int] = []
    cols: list[int] = []
    counts: list[int] = []
    lengths = np.zeros(len(token_lists))
    for row, tokens in enumerate(token_lists):
        lengths[row] = len(tokens)
        bag: dict[int, int] = defaultdict(int)
        for token in tokens:
            bag[vocabulary.setdefault(token, len(vocabulary))] += 1
        rows.extend([row] * len(bag))
        cols.extend(bag)
        counts.extend(bag.values())
    tf = sparse.csr_matrix((np.asarray(counts, dtype=float), (rows, cols)), shape=(len(token_lists), len(vocabulary)))
    df = np.bincount(np.asarray(cols, dtype=np.int64), minlength=len(vocabulary))
    idf = np.log(1 + (len(token_lists) - df + 0.5) / (df + 0.5))
    norm = k1 * (1 - b + b * lengths / max(float(lengths.mean()), 1e-9))
    weights = tf.copy()
    weights.data = weights.data * (k1 + 1) / (weights.data + np.repeat(norm, np.diff(tf.indptr)))
    return (weights @ sparse.diags(idf)).tocsr(), vocabulary


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


def _indicator(texts: Sequence[str], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    rows: list[int] = []
    cols: list[int] = []
    for row, text in enumerate(texts):
        terms = {vocabulary[token] for token in tokens(text) if token in vocabulary}
        rows.extend([row] * len(terms))
        cols.extend(terms)
    return sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(len(texts), len(vocabulary)))


def lexical_negatives(pairs: Sequence[tuple[str, str]], pair_groups: Sequence[str],
                      corpus: Sequence[tuple[str, str]], margin: float, seed: int = 0) -> tuple[list[str], int]:
    """For each (anchor, positive), the corpus text of another group BM25 ranks highest for the anchor, among those
    scoring below (1 - ``margin``) x the positive's score (closer ones may list the same product); returns the
    negatives and how many pairs fell back to a random text of another group (no candidate left)."""
    group_of: dict[str, set[str]] = defaultdict(set)
    for group, text in corpus:
        group_of[text].add(group)
    texts = list(group_of)
    weights, vocabulary = bm25_matrix([tokens(text) for text in texts])
    row_of = {text: row for row, text in enumerate(texts)}
    chooser = random.Random(seed)
    negatives, fallback = [], 0
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start:start + CHUNK]
        scores = (_indicator([anchor for anchor, _ in chunk], vocabulary) @ weights.T).toarray()
        for offset, (anchor, positive) in enumerate(chunk):
            group = pair_groups[start + offset]
            row = scores[offset]
            ceiling = (1 - margin) * row[row_of[positive]] if positive in row_of else np.inf
            found = None
            for candidate in np.argsort(-row)[:100]:
                text = texts[candidate]
                if row[candidate] <= 0:
                    break
                if group not in group_of[text] and text != anchor and row[candidate] < ceiling:
                    found = text
                    break
            if found is None:
                fallback += 1
                found = chooser.choice([text for text in texts if group not in group_of[text]])
            negatives.append(found)
    return negatives, fallback
