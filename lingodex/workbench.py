"""The relevance workbench `lingodex serve` offers: /compare (one query, two configurations side by side) and
/report (an eval comparison: per-language bars, per-query differences, significance).

What OpenSearch's Search Relevance Workbench does for its users, on lingodex's
own searcher: a configuration is search parameters (the served file or one of
``serve.compare_params``), a strategy and an index (two versions of one
catalog compare as two indices). The page's script and styles are files of
the package (lingodex/web/), never a CDN: the workbench runs where the
cluster does, often without internet. The report is rendered here, in Python,
as one self-contained HTML file (inline SVG bars), the same for
`lingodex eval --compare --html` and for /report.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse
from opensearchpy.exceptions import NotFoundError
from pydantic import BaseModel, ConfigDict, Field

from lingodex.search_templates.relevance.comparison import Comparison
from lingodex.search_templates.searcher import Hit, HybridSearcher, SearchResult
from lingodex.searching import LanguageTag

WEB = Path(__file__).parent / "web"
ASSETS = {"workbench.css": "text/css", "compare.js": "text/javascript"}
SERVED = "served"
BAR_COLOURS = ("#4c78a8", "#f58518")


class Side(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: str = Field(SERVED, description="served, or a name in serve.compare_params")
    strategy: Literal["hybrid", "lexical", "dense"] = "hybrid"
    index: str | None = Field(None, description="alias or index; default ingest.alias")


class CompareRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    lang: LanguageTag | None = None
    size: int = Field(10, ge=1, le=100)
    a: Side = Side()
    b: Side = Side(strategy="lexical")


def workbench_routes(searchers: dict[str, HybridSearcher], default_index: str, report: Path | None,
                     authorised: Any) -> APIRouter:
    """The pages (open: they hold no data) and their API (behind the token, as /search is)."""
    router = APIRouter()

    @router.get("/compare", response_class=HTMLResponse, include_in_schema=False)
    def compare_page() -> FileResponse:
        return FileResponse(WEB / "compare.html", media_type="text/html")

    @router.get("/web/{name}", include_in_schema=False)
    def asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(404, f"no such file: {name}")
        return FileResponse(WEB / name, media_type=ASSETS[name])

    @router.get("/compare/configurations", dependencies=[Depends(authorised)])
    def configurations() -> dict[str, Any]:
        return {"params": list(searchers), "strategies": ["hybrid", "lexical", "dense"], "index": default_index}

    @router.post("/compare", dependencies=[Depends(authorised)])
    async def compare(body: CompareRequest) -> dict[str, Any]:
        """Both configurations' hits for one query, each with its sub-scores and its rank under the other."""
        results = [await run_in_threadpool(searched, side, body) for side in (body.a, body.b)]
        ranks = [{hit.id: rank for rank, hit in enumerate(result.hits, start=1)} for result in results]
        return {"text": body.text, "a": side_json(body.a, results[0], ranks[1], default_index),
                "b": side_json(body.b, results[1], ranks[0], default_index)}

    def searched(side: Side, body: CompareRequest) -> SearchResult:
        if side.params not in searchers:
            raise HTTPException(422, f"params: {side.params!r} is not one of {', '.join(searchers)} "
                                     "(serve.compare_params names the others)")
        index = side.index or default_index
        try:
            return searchers[side.params].search(index, body.text, lang=body.lang, size=body.size,
                                                 explain=side.strategy == "hybrid", strategy=side.strategy)
        except NotFoundError:
            raise HTTPException(404, f"index: {index!r} does not exist on the cluster") from None

    @router.get("/report", response_class=HTMLResponse)
    def report_page() -> HTMLResponse:
        if report is None or not report.is_file():
            raise HTTPException(404, "no report: write one with `lingodex eval --compare A.yaml B.yaml --output "
                                     "report.json` and set serve.report to its path")
        return HTMLResponse(report_html(Comparison.from_json(json.loads(report.read_text(encoding="utf-8")))))

    return router


def side_json(side: Side, result: SearchResult, other_ranks: dict[str, int], default_index: str) -> dict[str, Any]:
    return {"config": {"params": side.params, "strategy": side.strategy, "index": side.index or default_index},
            "language": result.language.code, "fusion": result.fusion,
            "hits": [hit_json(rank, hit, other_ranks.get(hit.id)) for rank, hit in enumerate(result.hits, start=1)]}


def hit_json(rank: int, hit: Hit, other_rank: int | None) -> dict[str, Any]:
    """``move``: places this hit gained against the other configuration (None: the other did not return it)."""
    return {"rank": rank, "id": hit.id, "title": hit.title, "score": hit.score,
            "sub_scores": {name: {"raw": raw, "normalised": norm} for name, (raw, norm) in hit.sub_scores.items()},
            "other_rank": other_rank, "move": None if other_rank is None else other_rank - rank}


def report_html(comparison: Comparison) -> str:
    """The comparison as one HTML file: significance per language, per-language bars, the queries that moved most."""
    a_name, b_name = (html.escape(name) for name in comparison.names)
    metrics = list(comparison.overall["a"])
    rows = "".join(
        f"<tr><td>{html.escape(lang)}</td><td>{found.queries}</td><td>{found.mean_a:.3f}</td><td>{found.mean_b:.3f}</td>"
        f"<td class='{_sign(found.mean_b - found.mean_a)}'>{found.mean_b - found.mean_a:+.3f}</td>"
        f"<td>{found.p_value:.4f}{' *' if found.p_value < 0.05 else ''}</td></tr>"
        for lang, found in comparison.significance.items())
    charts = "".join(f"<figure><figcaption>{html.escape(lang)}</figcaption>"
                     f"{_bars(metrics, scores['a'], scores['b'])}</figure>"
                     for lang, scores in [("all", comparison.overall), *comparison.per_language.items()])
    moved = [query for query in comparison.queries if query.delta != 0]
    queries = "".join(
        f"<tr><td>{html.escape(query.id)}</td><td>{html.escape(query.lang)}</td><td>{html.escape(query.text)}</td>"
        f"<td>{query.a:.3f}</td><td>{query.b:.3f}</td><td class='{_sign(query.delta)}'>{query.delta:+.3f}</td></tr>"
        for query in moved[:200])
    css = (WEB / "workbench.css").read_text(encoding="utf-8")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lingodex report: {a_name} vs {b_name}</title>
<style>{css}</style></head><body>
<h1>{a_name} <span class="vs">vs</span> {b_name}</h1>
<p class="legend"><span class="key a"></span>A: {a_name} <span class="key b"></span>B: {b_name}</p>
<h2>{html.escape(comparison.metric)}, paired randomization test</h2>
<table class="significance"><thead><tr><th>language</th><th>queries</th><th>A</th><th>B</th><th>B − A</th>
<th>p (two-sided)</th></tr></thead><tbody>{rows}</tbody></table>
<p class="note">* p &lt; 0.05: a difference this large arises by chance in fewer than 1 in 20 random sign assignments
of the per-query differences.</p>
<h2>Per language</h2><div class="charts">{charts}</div>
<h2>Queries that moved ({len(moved)} of {len(comparison.queries)}; largest first, at most 200)</h2>
<table class="queries"><thead><tr><th>id</th><th>lang</th><th>query</th><th>A</th><th>B</th><th>B − A</th></tr></thead>
<tbody>{queries}</tbody></table>
</body></html>
"""


def _bars(metrics: list[str], a: dict[str, float], b: dict[str, float]) -> str:
    """Grouped horizontal bars, one pair per metric, on a 0–1 scale."""
    width, row, label = 360, 34, 90
    parts = []
    for number, metric in enumerate(metrics):
        y = number * row
        parts.append(f"<text x='0' y='{y + 15}'>{html.escape(metric)}</text>")
        for offset, (scores, colour) in enumerate(((a, BAR_COLOURS[0]), (b, BAR_COLOURS[1]))):
            value = scores.get(metric, 0.0)
            top = y + 3 + offset * 13
            parts.append(f"<rect x='{label}' y='{top}' width='{value * (width - label - 50):.1f}' height='11' "
                         f"fill='{colour}'><title>{value:.3f}</title></rect>"
                         f"<text x='{label + value * (width - label - 50) + 4:.1f}' y='{top + 10}' "
                         f"class='value'>{value:.3f}</text>")
    return (f"<svg width='{width}' height='{len(metrics) * row}' role='img' "
            f"aria-label='A and B per metric'>{''.join(parts)}</svg>")


def _sign(delta: float) -> str:
    return "up" if delta > 0 else "down" if delta < 0 else "same"
