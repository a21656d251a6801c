"""How settings become an OpenSearch client's authentication: basic auth, or SigV4 for Amazon OpenSearch Service."""

import pytest
from opensearchpy import Urllib3AWSV4SignerAuth

from lingodex.connection import opensearch_client
from lingodex.settings import OpenSearchSettings


def auth_of(settings: OpenSearchSettings):  # noqa: ANN201 - whatever the transport holds
    return opensearch_client(settings).transport.kwargs["http_auth"]


def test_username_and_password_become_basic_auth() -> None:
    assert auth_of(OpenSearchSettings(username="search", password="s3cret")) == ("search", "s3cret")


def test_several_comma_separated_urls_become_one_client_over_every_node() -> None:
    client = opensearch_client(OpenSearchSettings(url="http://10.0.0.1:9200, http://10.0.0.2:9200,http://10.0.0.3:9200"))
    hosts = sorted(connection.host for connection in client.transport.connection_pool.connections)
    assert hosts == ["http://10.0.0.1:9200", "http://10.0.0.2:9200", "http://10.0.0.3:9200"]


def test_no_credentials_means_no_auth() -> None:
    assert auth_of(OpenSearchSettings()) is None


def test_an_aws_region_signs_every_request_with_sigv4_for_that_region_and_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    auth = auth_of(OpenSearchSettings(url="https://search-x.eu-west-1.es.amazonaws.com", aws_region="eu-west-1",
                                      aws_service="aoss"))
    assert isinstance(auth, Urllib3AWSV4SignerAuth)
    headers = auth("GET", "https://search-x.eu-west-1.es.amazonaws.com/_cluster/health", None)
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/aoss/aws4_request" in headers["Authorization"]


def test_an_aws_region_without_credentials_is_refused_with_where_they_are_looked_for(
        monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # noqa: ANN001
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(RuntimeError, match="found no AWS credentials"):
        opensearch_client(OpenSearchSettings(aws_region="eu-west-1"))


def test_basic_auth_and_sigv4_together_are_refused() -> None:
    with pytest.raises(ValueError, match="not both"):
        OpenSearchSettings(username="search", password="x", aws_region="eu-west-1")
