"""`lingodex serve` as a real process on the real node: TEI- and OpenAI-shaped embeddings, search, limits, auth, batching."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
import pytest
from opensearchpy import OpenSearch
from opensearchpy.helpers import scan

from lingodex.ingest.catalog.language import LanguageGuess
from lingodex.ingest.catalog.schema import CatalogProduct
from lingodex.ingest.centring import estimate, language_sums, reference_sums
from lingodex.ingest.index.documents import PreparedRecord, embedding_text
from lingodex.ingest.index.index_versions import record_centroids
from lingodex.ingest.index.indexer import recreate_index
from lingodex.ingest.index.mappings import PRODUCTS, EncoderIdentity, index_body

from lingodex.search_templates.remote_model import (PRIVATE_IP, TRUSTED_ENDPOINTS, RemoteModel, delete, predict,
                                                     register)
from lingodex.search_templates.search_params import DEFAULT_PARAMS_FILE
from lingodex.search_templates.searcher import HybridSearcher
from lingodex.settings import Settings
from tests.integration.test_cli_errors import lingodex, one_error_line
from tests.ports import free_port
from tests.search_fixture import fixture_products, judged_titles

TOKEN = "serve-test-token-7f3a9c"
SAME_VECTOR = 0.9999
LEXICAL_HEAVY = "lexical-heavy.yaml"
LEXICAL_HEAVY_PARAMS = "default:\n  lexical_weight: 0.9\n  dense_weight: 0.1\n"
ARTIFACTS = Path(os.environ.get("LINGODEX_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"))


@dataclass
class Server:
    url: str
    log: Path
    process: subprocess.Popen[bytes]
    report: Path  # serve.report: /report shows what is written here

    def post(self, path: str, body: object, token: str | None = TOKEN) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.post(f"{self.url}{path}", json=body, headers=headers, timeout=60)

    def batches(self) -> float:
        """Encoder calls so far: the count of the batch-size histogram over both roles."""
        text = httpx.get(f"{self.url}/metrics", timeout=10).text
        return sum(float(line.split()[-1]) for line in text.splitlines()
                   if line.startswith("lingodex_embed_batch_texts_count"))


@pytest.fixture(scope="module")
def server(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The server as users run it; stopped with SIGTERM at the end (it must shut down cleanly)."""
    home = tmp_path_factory.mktemp("serve-home")
    port = free_port()
    log = home / "serve.log"
    (home / LEXICAL_HEAVY).write_text(LEXICAL_HEAVY_PARAMS, encoding="utf-8")
    environment = {**os.environ, "LINGODEX_HOME": str(home), "HF_HUB_OFFLINE": "1",
                   "LINGODEX_ENCODER__CACHE_DIR": str(settings.encoder.cache_dir), "LINGODEX_SERVE__TOKEN": TOKEN,
                   "LINGODEX_SERVE__MAX_TEXTS": "8", "LINGODEX_SERVE__MAX_CHARS": "200",
                   "LINGODEX_SERVE__BATCH_WAIT_MS": "20",
                   "LINGODEX_SERVE__COMPARE_PARAMS": json.dumps({"lexical-heavy": str(home / LEXICAL_HEAVY)}),
                   "LINGODEX_SERVE__REPORT": str(home / "report.json")}
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "lingodex.cli", "serve", "--port", str(port)], env=environment,
                                   stdout=output, stderr=subprocess.STDOUT, cwd=home)
    running = Server(f"http://127.0.0.1:{port}", log, process, home / "report.json")
    deadline = time.monotonic() + 300
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(f"{running.url}/health", timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "the server was not ready within 300 s:\n" + log.read_text()[-3000:]
        time.sleep(0.5)
    yield running
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / np.linalg.norm(a) / np.linalg.norm(b))


def test_tei_embed_returns_the_encoders_query_and_passage_vectors(
        server: Server, fixture_search: tuple[HybridSearcher, str]) -> None:
    encoder = fixture_search[0].encoder
    texts = ["wireless headphones", "Kabellose Kopfhörer mit Geräuschunterdrückung"]
    for role, expected in (("query", encoder.encode_queries(texts)), ("passage", encoder.encode_passages(texts))):
        response = server.post("/embed", {"inputs": texts, "normalize": True, "prompt_name": role})
        assert response.status_code == 200, response.text
        vectors = np.asarray(response.json())
        assert vectors.shape == (2, encoder.dimension)
        assert all(cosine(got, want) >= SAME_VECTOR for got, want in zip(vectors, expected, strict=True)), role


def test_openai_embeddings_match_the_encoder_as_floats_and_as_base64(
        server: Server, fixture_search: tuple[HybridSearcher, str]) -> None:
    encoder = fixture_search[0].encoder
    expected = encoder.encode_queries(["ワイヤレス イヤホン"])[0]
    floats = server.post("/v1/embeddings", {"input": "ワイヤレス イヤホン", "model": "any"}).json()
    packed = server.post("/v1/embeddings", {"input": ["ワイヤレス イヤホン"], "encoding_format": "base64"}).json()
    assert floats["object"] == "list" and floats["data"][0]["index"] == 0 and floats["model"] == encoder.model_id
    assert cosine(np.asarray(floats["data"][0]["embedding"]), expected) >= SAME_VECTOR
    decoded = np.frombuffer(base64.b64decode(packed["data"][0]["embedding"]), dtype="<f4")
    assert cosine(decoded, expected) >= SAME_VECTOR


@pytest.fixture
def centred_index(client: OpenSearch, fixture_search: tuple[HybridSearcher, str], settings: Settings,
                  index_name: str) -> str:
    """An empty index with language centroids: English the catalog's, the rest the reference sentences'."""
    encoder = fixture_search[0].encoder
    identity = EncoderIdentity(encoder.model_id, encoder.fingerprint, encoder.dimension)
    recreate_index(client, index_name, index_body(PRODUCTS, encoder=identity))
    catalog = language_sums(encoder, ["Wireless headphones", "Water bottle", "Running shoes"], ["en"] * 3)
    record_centroids(client, index_name, estimate(catalog, reference_sums(encoder, settings.encoder.cache_dir), 1))
    return index_name


def test_embed_for_an_index_returns_the_query_vector_its_dense_search_sends(
        server: Server, fixture_search: tuple[HybridSearcher, str], centred_index: str) -> None:
    searcher = fixture_search[0]
    for text, lang in (("Laufschuhe", "de"), ("机械键盘", None)):
        response = server.post("/embed", {"inputs": [text], "index": centred_index, **({"lang": lang} if lang else {})})
        assert response.status_code == 200, response.text
        sent, _, _ = searcher.prepare(text, index=centred_index, lang=lang)
        got = np.asarray(response.json()[0])
        assert cosine(got, np.asarray(sent.vector)) >= SAME_VECTOR, text
        assert cosine(got, searcher.encoder.encode_queries([text])[0]) < 0.99, "centring moved it"
    missing = server.post("/v1/embeddings", {"input": ["x"], "index": "test-no-such-index-4d1"})
    assert missing.status_code == 404


def test_embed_for_an_index_returns_passage_vectors_centred_as_ingest_stores_them(
        server: Server, fixture_search: tuple[HybridSearcher, str], centred_index: str) -> None:
    searcher = fixture_search[0]
    text = "Kabellose Kopfhörer mit Geräuschunterdrückung"
    response = server.post("/embed", {"inputs": [text], "prompt_name": "passage", "index": centred_index, "lang": "de"})
    assert response.status_code == 200, response.text
    raw = searcher.encoder.encode_passages([text])
    stored, _ = searcher.centroids(centred_index).centre_passages(raw, ["de"])
    got = np.asarray(response.json()[0])
    assert cosine(got, stored[0]) >= SAME_VECTOR and cosine(got, raw[0]) < 0.99


def test_search_over_http_returns_what_lingodex_search_prints(
        server: Server, settings: Settings, fixture_search: tuple[HybridSearcher, str], tmp_path: Path) -> None:
    _, index = fixture_search
    for text, extra in (("Wasserkocher", []), ("wireless headphones", ["--filter", "availability=in_stock"])):
        done = lingodex(settings, tmp_path, "search", text, "--index", index, "--k", "5", "--format", "json", *extra)
        assert done.returncode == 0, done.stderr
        response = server.post("/search", {"text": text, "index": index, "size": 5, "filters": extra[1:]})
        assert response.status_code == 200, response.text
        cli, http = json.loads(done.stdout), response.json()
        assert [(hit["id"], round(hit["score"], 4)) for hit in http["hits"]] == \
            [(hit["id"], round(hit["score"], 4)) for hit in cli["hits"]]
        assert (http["language"], http["fusion"]) == (cli["language"], cli["fusion"])


def test_concurrent_embed_requests_are_served_in_fewer_encoder_calls_than_requests(server: Server) -> None:
    before = server.batches()
    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(lambda i: server.post("/embed", {"inputs": [f"product number {i}"]}).status_code,
                                 range(50)))
    calls = server.batches() - before
    assert statuses == [200] * 50
    assert 1 <= calls < 50, calls


def test_too_many_or_too_long_texts_get_413_and_empty_ones_422_naming_the_field(server: Server) -> None:
    too_many = server.post("/embed", {"inputs": ["a"] * 9})
    too_long = server.post("/v1/embeddings", {"input": ["fine", "x" * 201]})
    empty = server.post("/embed", {"inputs": ["fine", "  "]})
    nothing = server.post("/v1/embeddings", {"input": []})
    unknown = server.post("/embed", {"inputs": ["a"], "prompt": "query"})
    assert (too_many.status_code, too_long.status_code) == (413, 413)
    assert "inputs: 9 texts; at most 8" in too_many.json()["detail"]
    assert "input[1]: 201 characters; at most 200" in too_long.json()["detail"]
    assert (empty.status_code, empty.json()["detail"]) == (422, "inputs[1]: empty text")
    assert (nothing.status_code, nothing.json()["detail"]) == (422, "input: no texts")
    assert unknown.status_code == 422 and "prompt" in json.dumps(unknown.json()["detail"])


def test_a_lang_or_locale_that_is_no_language_tag_gets_422_naming_the_field(server: Server) -> None:
    for path, body, field in (("/search", {"text": "kettle", "locale": "pt_BR!"}, "locale"),
                              ("/embed", {"inputs": ["kettle"], "lang": "english!"}, "lang"),
                              ("/compare", {"text": "kettle", "lang": "english!"}, "lang")):
        response = server.post(path, body)
        assert response.status_code == 422, (path, response.text)
        error, = response.json()["detail"]
        assert error["loc"][-1] == field and "is not a language tag" in error["msg"], (path, error)


def test_a_missing_or_wrong_token_gets_401_and_no_token_reaches_the_log(server: Server) -> None:
    wrong = server.post("/embed", {"inputs": ["a"]}, token="not-the-token-5521")
    missing = server.post("/search", {"text": "kettle"}, token=None)
    assert (wrong.status_code, missing.status_code) == (401, 401)
    assert wrong.headers["www-authenticate"] == "Bearer"
    assert server.post("/embed", {"inputs": ["a"]}).status_code == 200
    logged = server.log.read_text()
    assert "POST /embed" in logged, "the access log is where a token would leak"
    assert TOKEN not in logged and "not-the-token-5521" not in logged


def test_health_is_ready_and_metrics_time_each_route(server: Server) -> None:
    health = httpx.get(f"{server.url}/health", timeout=10)
    assert health.status_code == 200 and health.json()["status"] == "ready"
    assert httpx.get(f"{server.url}/health/live", timeout=10).json() == {"status": "live"}
    server.post("/embed", {"inputs": ["a"]})
    metrics = httpx.get(f"{server.url}/metrics", timeout=10).text
    assert 'lingodex_http_request_seconds_count{method="POST",route="/embed",status="200"}' in metrics
    assert "lingodex_embed_queue_wait_seconds_count" in metrics
    assert httpx.get(f"{server.url}/openapi.json", timeout=10).json()["paths"].keys() >= {"/embed", "/v1/embeddings",
                                                                                          "/search"}


# OpenSearch's own neural features on the served encoder: an ml-commons remote model calling this server.

@pytest.fixture
def remote_models(client: OpenSearch) -> Iterator[list[RemoteModel]]:
    """Models a test registers, deleted afterwards with their connectors; the cluster's connector settings restored."""
    before = client.cluster.get_settings(flat_settings=True)["persistent"]
    registered: list[RemoteModel] = []
    yield registered
    for model in registered:
        delete(client, model)
    client.cluster.put_settings(body={"persistent": {key: before.get(key) for key in (TRUSTED_ENDPOINTS, PRIVATE_IP)}})


def registered_by_cli(server: Server, settings: Settings, tmp_path: Path, index: str, *extra: str) -> RemoteModel:
    done = lingodex(settings, tmp_path, "model", "register", "--ml-commons", "--url", server.url, "--index", index,
                    "--format", "json", *extra, LINGODEX_SERVE__TOKEN=TOKEN)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    return RemoteModel(printed["model_id"], printed["connector_id"], printed["endpoint"], printed["index"])


def test_a_neural_query_on_the_registered_model_returns_lingodex_dense_top_10(
        server: Server, settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str],
        remote_models: list[RemoteModel], tmp_path: Path) -> None:
    searcher, index = fixture_search
    model = registered_by_cli(server, settings, tmp_path, index)
    remote_models.append(model)
    queries = [record["title"] for record in fixture_products()][::3]
    assert len(queries) >= 20
    for text in queries:
        neural = client.search(index=index, body={"size": 10, "_source": False, "query": {
            "neural": {"embedding": {"query_text": text, "model_id": model.model_id, "k": 100}}}})
        ours = searcher.search(index, text, size=10, strategy="dense")
        assert [hit["_id"] for hit in neural["hits"]["hits"]] == [hit.id for hit in ours.hits], text
    assert TOKEN not in json.dumps(client.transport.perform_request("GET", f"/_plugins/_ml/connectors/{model.connector_id}"))


def test_a_text_embedding_pipeline_stores_the_vectors_lingodex_ingest_stores(
        server: Server, settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str],
        remote_models: list[RemoteModel], index_name: str, tmp_path: Path) -> None:
    """Each vector is the encoder's for the same texts in the same batch; the int8 export's vectors move slightly with
    what else is in the batch (its activations are quantised per batch), so the fixture's, embedded in one batch of
    211, agree to 0.997 (README "OpenSearch's neural query on lingodex's encoder")."""
    searcher, index = fixture_search
    model = registered_by_cli(server, settings, tmp_path, index, "--pipeline", f"{index_name}-embed")
    remote_models.append(model)
    encoder = searcher.encoder
    recreate_index(client, index_name, index_body(PRODUCTS, encoder=EncoderIdentity(
        encoder.model_id, encoder.fingerprint, encoder.dimension)))
    products, expected = fixture_products(), {}
    for start in range(0, len(products), 8):  # the test server takes 8 texts per request (serve.max_texts)
        batch = {record["id"]: embedding_text(PreparedRecord(
            position=0, product=CatalogProduct(**record), language=LanguageGuess(record["lang"], 1.0, "declared")))
            for record in products[start:start + 8]}
        expected |= dict(zip(batch, encoder.encode_passages(list(batch.values())), strict=True))
        actions = [line for key, text in batch.items()
                   for line in ({"index": {"_index": index_name, "_id": key}}, {"id": key, "embedding_text": text})]
        response = client.bulk(body=actions, params={"pipeline": f"{index_name}-embed", "refresh": "true"})
        assert not response["errors"], response["items"][:2]
    piped = {hit["_id"]: np.asarray(hit["_source"]["embedding"]) for hit in scan(client, index=index_name)}
    stored = {hit["_id"]: np.asarray(hit["_source"]["embedding"]) for hit in scan(client, index=index,
                                                                                  _source=["embedding"])}
    assert piped.keys() == stored.keys() == expected.keys()
    assert min(cosine(piped[key], expected[key]) for key in piped) >= SAME_VECTOR
    assert min(cosine(piped[key], stored[key]) for key in piped) >= 0.997


def test_the_remote_model_sends_query_vectors_centred_for_its_index(
        server: Server, client: OpenSearch, fixture_search: tuple[HybridSearcher, str], centred_index: str,
        remote_models: list[RemoteModel]) -> None:
    searcher = fixture_search[0]
    model = register(client, server.url, centred_index, token=TOKEN, name="lingodex-test-centred")
    remote_models.append(model)
    for text in ("Laufschuhe", "机械键盘"):
        sent, _, _ = searcher.prepare(text, index=centred_index)
        assert cosine(np.asarray(predict(client, model.model_id, [text], "query")[0]), np.asarray(sent.vector)) \
            >= SAME_VECTOR, text


def test_registering_a_server_the_cluster_cannot_reach_is_one_line(
        settings: Settings, client: OpenSearch, fixture_search: tuple[HybridSearcher, str], tmp_path: Path,
        remote_models: list[RemoteModel]) -> None:
    before = {hit["_id"] for hit in client.transport.perform_request(
        "POST", "/_plugins/_ml/connectors/_search", body={"query": {"match_all": {}}, "size": 1000})["hits"]["hits"]}
    line = one_error_line(lingodex(settings, tmp_path, "model", "register", "--ml-commons", "--url",
                                   f"http://127.0.0.1:{free_port()}", "--index", fixture_search[1]))
    assert "the cluster could not get a vector from http://127.0.0.1:" in line and "is `lingodex serve` running" in line
    after = client.transport.perform_request("POST", "/_plugins/_ml/connectors/_search",
                                             body={"query": {"match_all": {}}, "size": 1000})["hits"]["hits"]
    assert {hit["_id"] for hit in after} == before, "a failed registration leaves no connector or model behind"


# The relevance workbench: /compare (two configurations side by side) and /report (eval --compare's report).

def test_compare_returns_both_configurations_hits_with_sub_scores_and_moves(
        server: Server, fixture_search: tuple[HybridSearcher, str]) -> None:
    searcher, index = fixture_search
    response = server.post("/compare", {"text": "Wasserkocher", "size": 10, "a": {"index": index},
                                        "b": {"params": "lexical-heavy", "index": index}})
    assert response.status_code == 200, response.text
    a, b = response.json()["a"], response.json()["b"]
    assert a["config"] == {"params": "served", "strategy": "hybrid", "index": index}
    assert [hit["id"] for hit in a["hits"]] == [hit.id for hit in searcher.search(index, "Wasserkocher", size=10).hits]
    assert all(hit["sub_scores"] for hit in a["hits"] + b["hits"]), "hybrid hits carry their sub-scores"
    rank_in_a = {hit["id"]: hit["rank"] for hit in a["hits"]}
    for hit in b["hits"]:
        assert hit["other_rank"] == rank_in_a.get(hit["id"])
        assert hit["move"] == (None if hit["other_rank"] is None else hit["other_rank"] - hit["rank"])
    unknown = server.post("/compare", {"text": "kettle", "a": {"params": "nope"}})
    assert unknown.status_code == 422 and "served, lexical-heavy" in unknown.json()["detail"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, driven through its own chromedriver (selenium)."""
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.skip("chromium and chromedriver are not installed here: apt-get install chromium chromium-driver "
                    "(.ci/run installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(argument)
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


def test_the_compare_page_in_a_real_browser_shows_both_columns(
        server: Server, fixture_search: tuple[HybridSearcher, str], browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import Select, WebDriverWait

    page: WebDriver = browser  # type: ignore[assignment]
    _, index = fixture_search
    page.get(f"{server.url}/compare")
    page.find_element(By.ID, "token").send_keys(TOKEN + Keys.TAB)  # leaving the field loads the configurations
    wait = WebDriverWait(page, 60)
    wait.until(lambda driver: len(driver.find_elements(By.CSS_SELECTOR, "#side-b .params option")) == 2)
    Select(page.find_element(By.CSS_SELECTOR, "#side-b .params")).select_by_value("lexical-heavy")
    for side in ("a", "b"):
        box = page.find_element(By.CSS_SELECTOR, f"#side-{side} .index")
        box.clear()
        box.send_keys(index)
    page.find_element(By.ID, "text").send_keys("Kabellose Kopfhörer")
    page.find_element(By.ID, "go").click()
    wait.until(shown.presence_of_element_located((By.CSS_SELECTOR, "#side-b li.hit")))
    columns = {side: page.find_elements(By.CSS_SELECTOR, f"#side-{side} li.hit") for side in ("a", "b")}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.save_screenshot(str(ARTIFACTS / "compare-page.png"))
    assert page.find_element(By.ID, "error").text == ""
    assert len(columns["a"]) == 10 and columns["b"], "hybrid fills the page; lexical finds what shares its words"
    chosen = page.find_elements(By.CSS_SELECTOR, "#side-b select")
    assert [Select(select).first_selected_option.text for select in chosen] == ["lexical-heavy", "lexical"]
    assert all(item.find_element(By.CLASS_NAME, "title").text for item in columns["a"] + columns["b"])
    assert "lexical" in columns["a"][0].find_element(By.CLASS_NAME, "meta").text  # sub-scores are shown
    assert (ARTIFACTS / "compare-page.png").stat().st_size > 10_000


def test_eval_compare_writes_the_report_that_report_shows(
        server: Server, settings: Settings, fixture_search: tuple[HybridSearcher, str], tmp_path: Path) -> None:
    _, index = fixture_search
    judgments = tmp_path / "judgments.jsonl"
    judgments.write_text("".join(json.dumps({"id": query.id, "query": query.text, "lang": query.lang,
                                             "relevant": query.relevant, "exclude": sorted(query.exclude)}) + "\n"
                                 for query in judged_titles()[::4]), encoding="utf-8")
    served = tmp_path / "served.yaml"
    served.write_text(DEFAULT_PARAMS_FILE.read_text(encoding="utf-8"), encoding="utf-8")
    heavy = tmp_path / LEXICAL_HEAVY
    heavy.write_text(LEXICAL_HEAVY_PARAMS, encoding="utf-8")
    done = lingodex(settings, tmp_path, "eval", "--judgments", str(judgments), "--index", index, "--compare",
                    str(served), str(heavy), "--output", str(server.report), "--html", str(tmp_path / "report.html"))
    assert done.returncode == 0, done.stderr
    report = json.loads(server.report.read_text(encoding="utf-8"))
    assert report["names"] == ["served.yaml", LEXICAL_HEAVY] and report["metric"] == "ndcg@10"
    assert report["significance"]["all"]["queries"] == len(report["queries"]) > 20
    assert set(report["per_language"]) <= set(report["significance"]) - {"all"}
    page = httpx.get(f"{server.url}/report", timeout=30)
    assert page.status_code == 200 and page.text == (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "served.yaml" in page.text and "<svg" in page.text and "paired randomization test" in page.text
