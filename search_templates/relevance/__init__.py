"""Judging rankings: evaluation, OpenSearch's rank_eval, and tuning of per-language parameters."""
