"""The one place that turns settings into an OpenSearch client."""

from __future__ import annotations

from opensearchpy import OpenSearch

from lingodex.settings import OpenSearchSettings


def opensearch_client(settings: OpenSearchSettings) -> OpenSearch:
    """A client for the configured cluster: TLS verification and basic auth from settings."""
    auth = None
    if settings.username is not None:
        password = settings.password.get_secret_value() if settings.password else ""
        auth = (settings.username, password)
    return OpenSearch(
        hosts=[settings.url],
        http_auth=auth,
        verify_certs=settings.verify_certs,
        ca_certs=str(settings.ca_certs) if settings.ca_certs else None,
        ssl_show_warn=settings.verify_certs,
        timeout=settings.timeout_s,
        retry_on_timeout=True,
        max_retries=3,
    )


def installed_plugins(client: OpenSearch) -> set[str]:
    """Component names from ``_cat/plugins`` (e.g. ``opensearch-neural-search``)."""
    rows = client.cat.plugins(format="json")
    return {row["component"] for row in rows}
