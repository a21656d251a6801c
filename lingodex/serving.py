"""`lingodex serve`: the encoder and the searcher behind HTTP, loaded once for every request.

A frontend in Java, Go or Node gets query vectors and search results without
paying the encoder's load on each call. Routes:
- ``POST /embed``: Hugging Face TEI's request and response (``{"inputs": [...]}`` →
  ``[[...]]``), ``prompt_name`` choosing the query or passage prefix;
- ``POST /v1/embeddings``: OpenAI's embeddings API (float or base64), with
  ``input_type`` (query | passage) as NVIDIA's and Cohere's APIs name it;
  both take ``index`` (and ``lang``) to return vectors centred with that
  index's language centroids, as its dense search sends queries and its
  ingest stores documents (what an ml-commons remote model needs:
  search_templates/remote_model.py);
- ``POST /search``: what `lingodex search --format json` prints, by the same code;
- ``GET /health`` (ready: the encoder is loaded and the cluster answers),
  ``GET /health/live`` (the process answers), ``GET /metrics`` (Prometheus),
  ``GET /openapi.json``;
- ``GET /compare`` and ``GET /report``: the relevance workbench (lingodex/workbench.py).

Why FastAPI (Starlette underneath, uvicorn serving it): request bodies are
pydantic models, as lingodex's settings and messages already are, so a
malformed request gets a 422 that names the field, and the OpenAPI document
comes from the same models. Search runs in its thread pool (opensearch-py is
synchronous); embed requests await the micro-batcher, which merges concurrent
requests into one encoder call (encoder/runtime/micro_batching.py). Its
interactive docs pages are off: they load their scripts from a CDN.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, Literal

import numpy as np
from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from opensearchpy.exceptions import ConnectionError as OpenSearchConnectionError
from opensearchpy.exceptions import NotFoundError, TransportError
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field

from lingodex.encoder.runtime.micro_batching import BatchStats, MicroBatcher, Role
from lingodex.search_templates.filters import FilterError, parse_filters
from lingodex.search_templates.search_params import load_search_params
from lingodex.search_templates.searcher import HybridSearcher
from lingodex.searching import LanguageTag, search_result_json
from lingodex.settings import ServeSettings
from lingodex.workbench import SERVED, workbench_routes

log = logging.getLogger(__name__)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


class Body(BaseModel):
    """A request body: an unknown field is a 422 naming it, never silently dropped."""

    model_config = ConfigDict(extra="forbid")


class TeiEmbedRequest(Body):
    inputs: str | list[str]
    normalize: bool = Field(True, description="vectors are always unit length; false returns them the same")
    truncate: bool = Field(True, description="texts past the model's maximum length are always cut to it")
    prompt_name: Role = Field("query", description="query: the model's query prefix; passage: its passage prefix")
    index: str | None = Field(None, description="lingodex: centre the vectors with this index's language "
                              "centroids, as its dense search (queries) and ingest (passages) do")
    lang: LanguageTag | None = Field(None, description="lingodex, with index: the texts' language; default detected")


class OpenAIEmbeddingsRequest(Body):
    input: str | list[str]
    model: str | None = Field(None, description="ignored: the served model answers")
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: int | None = Field(None, description="must be the model's dimension if given")
    user: str | None = None
    input_type: Role = Field("query", description="query or passage prefix")
    index: str | None = Field(None, description="lingodex: centre the vectors with this index's language "
                              "centroids, as its dense search (queries) and ingest (passages) do")
    lang: LanguageTag | None = Field(None, description="lingodex, with index: the texts' language; default detected")


class SearchRequest(Body):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    text: str = Field(min_length=1)
    index: str | None = Field(None, description="alias or index; default ingest.alias")
    lang: LanguageTag | None = Field(None, description="the query's language (ISO 639-1); default: detected")
    locale: LanguageTag | None = Field(None, description="the shopper's locale, e.g. pt-BR: weighs detection")
    filters: list[str] = Field(default_factory=list, description="brand=…, category=…, price=10..100, …")
    size: int = Field(10, ge=1, le=1000)
    from_: int = Field(0, ge=0, alias="from")
    strategy: Literal["hybrid", "lexical", "dense"] = "hybrid"
    explain: bool = False


class Metrics:
    """The app's own registry: request latency per route, and what micro-batching merged."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram("lingodex_http_request_seconds", "Request latency", ["route", "method", "status"],
                                 registry=self.registry)
        self.batch_texts = Histogram("lingodex_embed_batch_texts", "Texts per encoder call", ["role"],
                                     buckets=BATCH_BUCKETS, registry=self.registry)
        self.batch_requests = Histogram("lingodex_embed_batch_requests", "Requests merged into one encoder call",
                                        ["role"], buckets=BATCH_BUCKETS, registry=self.registry)
        self.queue_wait = Histogram("lingodex_embed_queue_wait_seconds", "Time a request waited for its encoder call",
                                    registry=self.registry)

    def batch(self, stats: BatchStats) -> None:
        self.batch_texts.labels(stats.role).observe(stats.texts)
        self.batch_requests.labels(stats.role).observe(stats.requests)
        for wait in stats.waits_s:
            self.queue_wait.observe(wait)


def create_app(settings: ServeSettings, searcher: HybridSearcher, default_index: str) -> FastAPI:
    """The API over ``searcher`` (and its encoder); the micro-batcher lives as long as the app."""
    metrics = Metrics()
    encoder = searcher.encoder
    token = settings.token.get_secret_value() if settings.token else None
    state: dict[str, MicroBatcher] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state["batcher"] = MicroBatcher(encoder, max_wait_s=settings.batch_wait_ms / 1000,
                                        max_batch_texts=settings.max_batch_texts, on_batch=metrics.batch)
        yield
        state["batcher"].close()  # uvicorn stopped taking requests and finished the ones in flight

    app = FastAPI(title="lingodex", version="1", lifespan=lifespan, docs_url=None, redoc_url=None)

    @app.middleware("http")
    async def timed(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        metrics.latency.labels(getattr(route, "path", "unmatched"), request.method,
                               str(response.status_code)).observe(time.perf_counter() - started)
        return response

    def authorised(request: Request) -> None:
        if token is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "missing or wrong bearer token: send `Authorization: Bearer <serve.token>`",
                                headers={"WWW-Authenticate": "Bearer"})

    async def embedded(texts: str | list[str], field: str, role: Role, index: str | None = None,
                       lang: str | None = None) -> np.ndarray:
        checked = checked_texts(texts, field, settings)
        vectors = await asyncio.wrap_future(state["batcher"].submit(checked, role))
        if index is None:
            return vectors
        return await run_in_threadpool(centred, index, checked, vectors, role, lang)

    def centred(index: str, texts: list[str], vectors: np.ndarray, role: Role, lang: str | None) -> np.ndarray:
        if not searcher.client.indices.exists(index=index):
            raise HTTPException(404, f"index: {index!r} does not exist on the cluster")
        return searcher.centred(index, texts, vectors, role, lang)

    @app.post("/embed", dependencies=[Depends(authorised)], response_model=list[list[float]])
    async def embed(body: TeiEmbedRequest) -> Response:
        """Hugging Face TEI's /embed."""
        vectors = await embedded(body.inputs, "inputs", body.prompt_name, body.index, body.lang)
        return vectors_json(vectors.tolist())

    @app.post("/v1/embeddings", dependencies=[Depends(authorised)])
    async def openai_embeddings(body: OpenAIEmbeddingsRequest) -> Response:
        """OpenAI's embeddings API. usage counts no tokens (0): the encoder does not report them per request."""
        if body.dimensions is not None and body.dimensions != encoder.dimension:
            raise HTTPException(422, f"dimensions: {encoder.model_id} gives {encoder.dimension}, not {body.dimensions}")
        vectors = await embedded(body.input, "input", body.input_type, body.index, body.lang)
        data = [{"object": "embedding", "index": i,
                 "embedding": (base64.b64encode(row.astype("<f4").tobytes()).decode("ascii")
                               if body.encoding_format == "base64" else row.tolist())}
                for i, row in enumerate(vectors)]
        return vectors_json({"object": "list", "data": data, "model": encoder.model_id,
                             "usage": {"prompt_tokens": 0, "total_tokens": 0}})

    @app.post("/search", dependencies=[Depends(authorised)])
    def search(body: SearchRequest) -> dict[str, Any]:
        """`lingodex search --format json` over HTTP."""
        try:
            filters = parse_filters(body.filters)
        except FilterError as error:
            raise HTTPException(422, f"filters: {error}") from None
        index = body.index or default_index
        try:
            result = searcher.search(index, body.text, lang=body.lang, locale=body.locale, filters=filters,
                                     size=body.size, offset=body.from_, explain=body.explain, strategy=body.strategy)
        except NotFoundError:
            raise HTTPException(404, f"index: {index!r} does not exist on the cluster") from None
        except ValueError as error:  # a page past the fusion window, and the like: the caller can fix it
            raise HTTPException(400, str(error)) from None
        except (OpenSearchConnectionError, TransportError) as error:
            log.warning("search failed on the cluster: %s", error)
            raise HTTPException(503, f"the cluster did not answer the search: {error}") from None
        return search_result_json(body.text, result, body.from_)

    @app.get("/health")
    def health(response: Response) -> dict[str, Any]:
        """Ready: the encoder is loaded and the cluster answers (a readiness probe)."""
        try:
            cluster = searcher.client.cluster.health(request_timeout=2)["status"]
        except Exception as error:  # noqa: BLE001 - any failure means not ready, said in the body
            response.status_code = 503
            return {"status": "unavailable", "reason": f"cluster: {type(error).__name__}: {error}"}
        return {"status": "ready", "model": encoder.model_id, "dimension": encoder.dimension, "cluster": cluster}

    @app.get("/health/live")
    def live() -> dict[str, str]:
        """The process answers (a liveness probe: a cluster outage must not restart the server)."""
        return {"status": "live"}

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    configurations = {SERVED: searcher, **{name: searcher.with_params(load_search_params(path))
                                           for name, path in settings.compare_params.items()}}
    app.include_router(workbench_routes(configurations, default_index, settings.report, authorised))
    return app


def vectors_json(content: object) -> Response:
    """JSON written straight from Python lists: FastAPI's own response encoding walks every one of the 384 floats
    of every vector through its validators, which costs more CPU than the encoder does for a short query."""
    return Response(json.dumps(content, separators=(",", ":")), media_type="application/json")


def checked_texts(texts: str | list[str], field: str, settings: ServeSettings) -> list[str]:
    """The request's texts, or a 413/422 that names the one at fault and the limit."""
    items = [texts] if isinstance(texts, str) else texts
    if not items:
        raise HTTPException(422, f"{field}: no texts")
    if len(items) > settings.max_texts:
        raise HTTPException(413, f"{field}: {len(items)} texts; at most {settings.max_texts} per request "
                                 "(serve.max_texts)")
    for i, text in enumerate(items):
        where = field if isinstance(texts, str) else f"{field}[{i}]"
        if not text.strip():
            raise HTTPException(422, f"{where}: empty text")
        if len(text) > settings.max_chars:
            raise HTTPException(413, f"{where}: {len(text)} characters; at most {settings.max_chars} (serve.max_chars)")
    return items
