"""The one place that turns settings into an OpenSearch client."""

from __future__ import annotations

from typing import Any

from opensearchpy import OpenSearch

from lingodex.settings import OpenSearchSettings


def opensearch_client(settings: OpenSearchSettings) -> OpenSearch:
    """A client for the configured cluster: TLS verification, and basic auth or SigV4, from settings."""
    return OpenSearch(
        hosts=settings.hosts,
        http_auth=_auth(settings),
        verify_certs=settings.verify_certs,
        ca_certs=str(settings.ca_certs) if settings.ca_certs else None,
        ssl_show_warn=settings.verify_certs,
        timeout=settings.timeout_s,
        retry_on_timeout=True,
        max_retries=3,
    )


def _auth(settings: OpenSearchSettings) -> Any:
    if settings.aws_region:
        return _sigv4(settings.aws_region, settings.aws_service)
    if settings.username is not None:
        return (settings.username, settings.password.get_secret_value() if settings.password else "")
    return None


def _sigv4(region: str, service: str) -> Any:
    """opensearch-py's own signer; boto3 finds the credentials (env, profile, IAM role) and refreshes them."""
    try:
        import boto3
    except ImportError as error:
        raise RuntimeError("opensearch.aws_region needs boto3: pip install 'lingodex[aws]'") from error
    from opensearchpy import Urllib3AWSV4SignerAuth

    credentials = boto3.Session().get_credentials()
    if credentials is None:
        raise RuntimeError("opensearch.aws_region is set but boto3 found no AWS credentials "
                           "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or an IAM role)")
    return Urllib3AWSV4SignerAuth(credentials, region, service)


def installed_plugins(client: OpenSearch) -> set[str]:
    """Component names from ``_cat/plugins`` (e.g. ``opensearch-neural-search``)."""
    rows = client.cat.plugins(format="json")
    return {row["component"] for row in rows}
