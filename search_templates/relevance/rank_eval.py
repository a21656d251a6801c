"""The same judgments through OpenSearch's own `_rank_eval`, for the strategies it can run (lexical, dense).

`_rank_eval` runs plain searches and templates but not search pipelines, so
hybrid (fused by a pipeline) is evaluated only by lingodex. Recall and MRR
agree with lingodex's (trec_eval) numbers; nDCG agrees only when a query
returns at least as many hits as it has relevant documents, because
OpenSearch's ideal DCG counts only as many ratings as there are hits (a
strategy that returns one right hit out of seven relevant scores 1.0 there,
0.32 in trec_eval). Tests show both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opensearchpy import OpenSearch

from lingodex.ingest.index.index_versions import alias_indices
from lingodex.search_templates.relevance.evaluation import JudgedQuery

RANK_EVAL_METRICS = {  # ours -> OpenSearch's metric body
    "ndcg@10": {"dcg": {"k": 10, "normalize": True}},
    "recall@10": {"recall": {"k": 10, "relevant_rating_threshold": 1}},
    "mrr@10": {"mean_reciprocal_rank": {"k": 10, "relevant_rating_threshold": 1}},
}


def rank_eval(client: OpenSearch, index: str, judged: Sequence[JudgedQuery], template: str,
              params_for: Callable[[JudgedQuery], dict[str, Any]]) -> dict[str, float]:
    """Mean of each metric over the queries, as `_rank_eval` computes it with the lingodex template."""
    concrete = alias_indices(client, index) or [index]  # ratings name the index a hit comes from, not the alias
    requests = [{"id": query.id, "template_id": "lingodex", "params": params_for(query),
                 "ratings": [{"_index": name, "_id": doc, "rating": grade}
                             for doc, grade in query.relevant.items() for name in concrete]}
                for query in judged]
    scores = {}
    for name, metric in RANK_EVAL_METRICS.items():
        body = {"templates": [{"id": "lingodex", "template": {"id": template}}], "requests": requests, "metric": metric}
        scores[name] = client.rank_eval(index=index, body=body)["metric_score"]
    return scores
