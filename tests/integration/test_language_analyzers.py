"""Each language analyser on the node tokenises its language as a linguist would expect."""

import pytest
from opensearchpy import OpenSearch

CASES = [
    # analyzer, text, expected tokens
    ("kuromoji", "東京都に住んでいます", ["東京", "都", "住む"]),  # particles dropped, verb to base form
    ("smartcn", "我爱北京天安门", ["我", "爱", "北京", "天安门"]),  # word segmentation, no spaces
    ("nori", "한국어 형태소 분석기", ["한국", "어", "형태", "소", "분석", "기"]),  # morpheme split
    ("english", "The foxes were running quickly", ["fox", "were", "run", "quickli"]),  # stopword + Porter
    ("spanish", "Las canciones más bonitas", ["cancion", "bonit"]),  # stopwords + light stemmer
    ("icu_analyzer", "Ünïcode ＡＢＣ", ["unicode", "abc"]),  # ICU folding and NFKC width
]


@pytest.mark.parametrize(("analyzer", "text", "expected"), CASES, ids=[case[0] for case in CASES])
def test_analyzer_produces_the_expected_tokens(client: OpenSearch, analyzer: str, text: str, expected: list[str]) -> None:
    response = client.indices.analyze(body={"analyzer": analyzer, "text": text})
    assert [token["token"] for token in response["tokens"]] == expected
