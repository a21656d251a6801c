"""Removing what an integration test loaded: a name, and the versions behind it if it is an alias."""

from opensearchpy import OpenSearch


def drop_with_versions(client: OpenSearch, name: str) -> None:
    """Delete ``name`` and every ``name-v…`` version (an alias goes with its indices)."""
    client.indices.delete(index=f"{name}*", ignore_unavailable=True, expand_wildcards="all")
