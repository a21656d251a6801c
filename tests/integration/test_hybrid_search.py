"""The search path on the real node: server-side (neural-search) and client-side fusion agree; filters and pages hold.

Vectors here are made by hand (eight dimensions, seeded), so that rankings
depend only on the fusion under test; the encoder's part is tested end to end
by the demo and fixture tests.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from opensearchpy import OpenSearch

from lingodex.ingest.index.documents import PreparedRecord, to_document
from lingodex.ingest.index.hubness import score_unscored
from lingodex.ingest.index.indexer import bulk_index, recreate_index
from lingodex.ingest.catalog.language import LanguageDetector, LanguageGuess
from lingodex.ingest.index.mappings import EncoderIdentity, index_body, language_fields
from lingodex.ingest.catalog.schema import CatalogProduct
from lingodex.search_templates.filters import Filters, parse_filters
from lingodex.search_templates.query_builder import SearchQuery
from lingodex.search_templates.search_params import LanguageParams, SearchParams
from lingodex.search_templates.searcher import SUB_QUERIES, HybridSearcher, Hit, with_sub_scores
from tests.catalogs import BRANDS, product

DIMENSION = 8
ANALYZED = language_fields("products")
FUSIONS = [
    LanguageParams(normalization="min_max", combination="arithmetic_mean"),
    LanguageParams(normalization="min_max", combination="geometric_mean", lexical_weight=0.5, dense_weight=0.5),
    LanguageParams(normalization="min_max", combination="harmonic_mean", lexical_weight=0.6, dense_weight=0.4),
    LanguageParams(normalization="l2", combination="arithmetic_mean"),
    LanguageParams(normalization="z_score", combination="arithmetic_mean"),
    LanguageParams(normalization="min_max", combination="geometric_mean", lexical_weight=0.0, dense_weight=1.0),
    LanguageParams(normalization="l2", combination="harmonic_mean", lexical_weight=1.0, dense_weight=0.0),
    LanguageParams(fusion="rrf", rank_constant=60),
]


def unit_vector(rng: random.Random) -> list[float]:
    values = [rng.gauss(0, 1) for _ in range(DIMENSION)]
    norm = sum(v * v for v in values) ** 0.5
    return [v / norm for v in values]


@pytest.fixture(scope="module")
def catalog(client: OpenSearch) -> str:
    index = "test-hybrid-search"
    recreate_index(client, index, index_body("products", encoder=EncoderIdentity("test-8d", "none", DIMENSION)))
    rng = random.Random(11)
    documents = []
    for i in range(300):
        fields = product(i, rng)
        language = LanguageGuess(fields.pop("lang", "en"), 1.0, "declared")
        record = PreparedRecord(position=i + 1, product=CatalogProduct(**fields), language=language)
        documents.append(to_document(record, unit_vector(rng), ANALYZED))
    assert not bulk_index(client, index, documents, refresh=True).rejected
    yield index
    client.indices.delete(index=index)


@pytest.fixture(scope="module")
def searcher(client: OpenSearch) -> HybridSearcher:
    """No encoder: these tests hand the searcher ready vectors through SearchQuery."""
    return HybridSearcher(client, encoder=None, params=SearchParams(), detector=LanguageDetector(["en"], 0.3),
                          analyzed=ANALYZED)


def query(text: str = "wireless headphones", lang: str = "en", filters: Filters | None = None, size: int = 20,
          offset: int = 0) -> SearchQuery:
    return SearchQuery(text, lang, unit_vector(random.Random(text)), filters or Filters(), size, offset)


def assert_same_ranking(server: list[Hit], client_side: list[Hit]) -> None:
    """Same scores rank for rank; ids equal wherever the score is not tied with a neighbour."""
    assert len(server) == len(client_side) > 0
    for rank, (ours, theirs) in enumerate(zip(client_side, server, strict=True)):
        assert ours.score == pytest.approx(theirs.score, rel=1e-4, abs=1e-6), f"rank {rank + 1}"
    tied = {round(hit.score, 5) for hit in server if [round(h.score, 5) for h in server].count(round(hit.score, 5)) > 1}
    assert [hit.id for hit in server if round(hit.score, 5) not in tied] == \
        [hit.id for hit in client_side if round(hit.score, 5) not in tied]


@pytest.mark.parametrize("params", FUSIONS, ids=lambda p: p.fusion if p.fusion == "rrf" else
                         f"{p.normalization}-{p.combination}-{p.lexical_weight}")
def test_client_side_fusion_ranks_like_the_neural_search_pipeline(
        searcher: HybridSearcher, catalog: str, params: LanguageParams) -> None:
    for text, lang in [("wireless headphones", "en"), ("auriculares inalámbricos", "es"), ("ワイヤレス", "ja")]:
        q = query(text, lang)
        assert_same_ranking(searcher.fused_on_cluster(catalog, q, params), searcher.fused_here(catalog, q, params))


def test_both_fusions_agree_when_dense_scores_carry_the_hubness_penalty(
        client: OpenSearch, searcher: HybridSearcher, catalog: str) -> None:
    # scores every document once; the other tests' queries carry no isolation_missing, so they leave them out
    hubness = score_unscored(client, catalog, neighbours=5)
    params = LanguageParams()
    for text, lang in [("wireless headphones", "en"), ("auriculares inalámbricos", "es")]:
        penalised = replace(query(text, lang), isolation_missing=hubness.median_isolation)
        on_cluster = searcher.fused_on_cluster(catalog, penalised, params)
        assert_same_ranking(on_cluster, searcher.fused_here(catalog, penalised, params))
        unpenalised = searcher.fused_on_cluster(catalog, query(text, lang), params)
        assert [hit.score for hit in on_cluster] != [hit.score for hit in unpenalised]


def test_filters_hold_in_both_sub_queries_and_in_the_fused_hits(
        client: OpenSearch, searcher: HybridSearcher, catalog: str) -> None:
    params = LanguageParams(window=30, k=30)
    q = query(filters=parse_filters([f"brand={BRANDS[0]}", "price=..250"]))
    matching = client.count(index=catalog, body={"query": {"bool": {"filter": q.filters.clauses()}}})["count"]
    ranked, sources = searcher.sub_query_hits(catalog, q, params)
    lexical, dense = ranked
    assert 0 < matching < 300 and lexical.hits
    assert len(dense.hits) == min(30, matching), "filtering inside k-NN finds every matching product, not a post-filtered few"
    fused = searcher.fused_on_cluster(catalog, q, params) + searcher.fused_here(catalog, q, params)
    for source in [*sources.values(), *(hit.source for hit in fused)]:
        assert source["brand"] == BRANDS[0] and source["price"] <= 250


def test_a_filter_that_matches_nothing_returns_no_hits(searcher: HybridSearcher, catalog: str) -> None:
    q = query(filters=parse_filters(["brand=NoSuchBrand"]))
    assert searcher.fused_on_cluster(catalog, q, LanguageParams()) == []
    assert searcher.fused_here(catalog, q, LanguageParams()) == []


@pytest.mark.parametrize("where", ["cluster", "here"])
def test_pages_concatenate_to_the_unpaged_ranking(searcher: HybridSearcher, catalog: str, where: str) -> None:
    params = LanguageParams(window=50, k=50)
    run = searcher.fused_on_cluster if where == "cluster" else searcher.fused_here
    whole = [hit.id for hit in run(catalog, query(size=30), params)]
    pages = [hit.id for offset in (0, 10, 20) for hit in run(catalog, query(size=10, offset=offset), params)]
    assert pages == whole


@pytest.mark.parametrize("params", [FUSIONS[0], FUSIONS[4], FUSIONS[-1]], ids=["min_max", "z_score", "rrf"])
def test_explain_shows_each_sub_score_as_the_cluster_normalised_it(
        searcher: HybridSearcher, catalog: str, params: LanguageParams) -> None:
    """What `lingodex search --explain` shows: our per-sub-query scores next to neural-search's own explanation."""
    q = query()
    hits = with_sub_scores(searcher.fused_on_cluster(catalog, q, params, explain=True),
                           searcher.sub_query_hits(catalog, q, params)[0], params)
    assert any(len(hit.sub_scores) == 2 for hit in hits), "some hits are found by both sub-queries"
    for hit in hits:
        assert hit.explanation["value"] == pytest.approx(hit.score, rel=1e-5)
        if params.fusion != "rrf":  # RRF explains ranks, not normalised scores
            theirs = sorted(detail["value"] for detail in hit.explanation["details"])
            assert theirs == pytest.approx(sorted(norm for _, norm in hit.sub_scores.values()), rel=1e-4), hit.id


def test_explained_sub_scores_fuse_to_the_hit_score_here(searcher: HybridSearcher, catalog: str) -> None:
    params = FUSIONS[0]  # min_max, arithmetic mean: a sub-query that missed a document counts 0
    hits = searcher.fused_here(catalog, query(), params, explain=True)
    assert hits and all(hit.sub_scores for hit in hits)
    for hit in hits:
        weighted = sum(weight * hit.sub_scores[name][1] for name, weight in zip(SUB_QUERIES, params.weights, strict=True)
                       if name in hit.sub_scores)
        assert hit.score == pytest.approx(weighted / sum(params.weights))


def test_a_pipeline_deleted_under_a_running_searcher_is_created_again(
        client: OpenSearch, searcher: HybridSearcher, catalog: str) -> None:
    from lingodex.search_templates.pipelines import fusion_pipeline

    params = LanguageParams(lexical_weight=0.4, dense_weight=0.6)
    before = [hit.id for hit in searcher.fused_on_cluster(catalog, query(), params)]
    name = fusion_pipeline(params)[0]
    client.transport.perform_request("DELETE", f"/_search/pipeline/{name}")  # another client pruned it
    assert [hit.id for hit in searcher.fused_on_cluster(catalog, query(), params)] == before
    assert name in client.transport.perform_request("GET", f"/_search/pipeline/{name}")


def test_searching_an_index_of_an_older_mapping_schema_warns_once_to_reindex(
        client: OpenSearch, fixture_search: tuple[HybridSearcher, str], index_name: str,
        caplog: pytest.LogCaptureFixture) -> None:
    encoder = fixture_search[0].encoder
    body = index_body("products", encoder=EncoderIdentity(encoder.model_id, encoder.fingerprint, encoder.dimension))
    body["mappings"]["_meta"]["lingodex_schema"] = 2
    client.indices.create(index=index_name, body=body)
    searcher = HybridSearcher(client, encoder, params=SearchParams(), detector=LanguageDetector(["en"], 0.3),
                              analyzed=ANALYZED)
    for _ in range(2):
        searcher.search(index_name, "kettle", lang="en", strategy="lexical")
    warnings = [record for record in caplog.records if "lingodex reindex" in record.getMessage()]
    assert len(warnings) == 1 and index_name in warnings[0].getMessage()


def test_a_lexical_search_never_runs_the_encoder(fixture_search: tuple[HybridSearcher, str]) -> None:
    real, index = fixture_search
    calls: list[list[str]] = []

    class Counted:
        """The real encoder, every query it embeds written down."""

        def __getattr__(self, name: str) -> object:
            return getattr(real.encoder, name)

        def encode_queries(self, texts: list[str]) -> object:
            calls.append(list(texts))
            return real.encoder.encode_queries(texts)

    searcher = HybridSearcher(real.client, Counted(), params=real.params, detector=real.detector,  # type: ignore[arg-type]
                              analyzed=real.analyzed)
    assert searcher.search(index, "Wasserkocher", strategy="lexical").hits
    assert calls == []
    assert searcher.search(index, "Wasserkocher", strategy="dense").hits
    assert calls == [["Wasserkocher"]]
