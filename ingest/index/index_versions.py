"""Versioned indices behind an alias, the encoder pinned in each version's _meta.

A full load or `lingodex reindex` writes a new ``<alias>-v<UTC timestamp>`` and
swaps the alias in one atomic `_aliases` call; the previous version stays until
dropped. Loading into an index whose vectors came from another model is refused.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opensearchpy import OpenSearch

from lingodex.ingest.centring import Centroids
from lingodex.ingest.errors import IngestError
from lingodex.ingest.index.mappings import EncoderIdentity
from lingodex.ingest.catalog.readers import SourceRecord

BULK_LOAD_SETTINGS = {"index.refresh_interval": "-1", "index.number_of_replicas": 0}


class EncoderMismatch(IngestError, RuntimeError):
    """The index holds vectors of another model (or another dimension)."""


@dataclass(frozen=True)
class Target:
    index: str  # the concrete index documents go to
    alias: str | None  # the alias to point at it when the load is done (new versions only)
    previous: str | None  # what the alias pointed at before


def version_name(alias: str) -> str:
    """``<alias>-v<UTC yyyymmddHHMMSS><ms>``: sorts by creation time."""
    now = time.time()
    return f"{alias}-v{time.strftime('%Y%m%d%H%M%S', time.gmtime(now))}{int(now * 1000) % 1000:03d}"


def alias_indices(client: OpenSearch, alias: str) -> list[str]:
    if not client.indices.exists_alias(name=alias):
        return []
    return sorted(client.indices.get_alias(name=alias))


def resolve_target(client: OpenSearch, name: str, body: dict[str, Any], encoder: EncoderIdentity,
                   *, new_version: bool = False) -> Target:
    """Where a load into ``name`` writes: an alias's index, a plain index, or a new version.

    A name that does not exist yet becomes an alias over its first version, so
    that later full loads and reindexes can swap it without downtime.
    """
    current = alias_indices(client, name)
    if len(current) > 1:
        raise RuntimeError(f"alias {name!r} points at {len(current)} indices {current}; lingodex loads through one")
    if current and not new_version:
        check_encoder(client, current[0], encoder)
        return Target(current[0], None, current[0])
    if not current and client.indices.exists(index=name):
        if new_version:
            raise RuntimeError(f"{name!r} is a plain index, not an alias; a new version needs an alias name")
        check_encoder(client, name, encoder)
        return Target(name, None, None)
    index = version_name(name)
    client.indices.create(index=index, body=body)
    return Target(index, name, current[0] if current else None)


def encoder_of(client: OpenSearch, index: str) -> EncoderIdentity | None:
    """The encoder recorded in ``index``'s _meta (None for an index lingodex did not make); an alias: its index's."""
    mappings = client.indices.get_mapping(index=index)
    body = mappings.get(index) or next(iter(mappings.values()))
    return EncoderIdentity.from_meta(body["mappings"].get("_meta", {}))


def centroids_of(client: OpenSearch, index: str) -> Centroids | None:
    """The language centroids an index's vectors were centred with (None: not centred)."""
    mappings = client.indices.get_mapping(index=index)
    found = {name: Centroids.from_meta(body["mappings"].get("_meta")) for name, body in mappings.items()}
    ids = {centroids.id if centroids else None for centroids in found.values()}
    if len(ids) > 1:
        raise ValueError(f"{index!r} spans indices centred differently ({sorted(found)}); search them one at a time")
    return next(iter(found.values()))


def record_centroids(client: OpenSearch, index: str, centroids: Centroids) -> None:
    """Freeze ``centroids`` in the index's _meta: every later vector uses them."""
    record_meta(client, index, "centring", centroids.to_meta())


def record_meta(client: OpenSearch, index: str, key: str, value: Any) -> None:
    """Set ``_meta[key]`` of the index, the rest of its _meta kept (put_mapping replaces _meta whole)."""
    meta = client.indices.get_mapping(index=index)[index]["mappings"].get("_meta", {})
    client.indices.put_mapping(index=index, body={"_meta": {**meta, key: value}})


def check_encoder(client: OpenSearch, index: str, encoder: EncoderIdentity) -> None:
    stored = encoder_of(client, index)
    if stored is None:
        raise EncoderMismatch(f"index {index!r} records no lingodex encoder in its _meta; it was not made by "
                              "`lingodex ingest`. Load into a new alias, or reindex it with `lingodex reindex`.")
    if not stored.same_vectors_as(encoder):
        raise EncoderMismatch(
            f"index {index!r} holds vectors of {stored.model_id} (fingerprint {stored.fingerprint}, {stored.dimension} "
            f"dims) but the configured encoder is {encoder.model_id} (fingerprint {encoder.fingerprint}, "
            f"{encoder.dimension} dims). Mixing them would make k-NN scores meaningless. Either configure the "
            f"encoder that built the index, or run `lingodex reindex --alias <alias>` to build a new version "
            f"with this encoder and swap the alias to it.")


def stored_records(client: OpenSearch, index: str) -> Iterator[SourceRecord]:
    """The products an index was loaded with (its ``record`` field), for rebuilding a version."""
    from opensearchpy import helpers

    hits = helpers.scan(client, index=index, query={"query": {"match_all": {}}, "_source": ["record"]},
                        size=500, preserve_order=True)
    for position, hit in enumerate(hits, start=1):
        record = hit["_source"].get("record")
        if record is None:
            yield SourceRecord(position, None, f"document {hit['_id']} has no stored record (not loaded by lingodex)")
        else:
            yield SourceRecord(position, record["product"])


def swap_alias(client: OpenSearch, alias: str, index: str) -> None:
    """Point ``alias`` at ``index`` alone, atomically."""
    actions: list[dict[str, Any]] = [{"remove": {"index": old, "alias": alias}} for old in alias_indices(client, alias)]
    actions.append({"add": {"index": index, "alias": alias, "is_write_index": True}})
    client.indices.update_aliases(body={"actions": actions})


@dataclass(frozen=True)
class Version:
    index: str
    documents: int
    model: str
    centring: str | None  # the centroids' id (ingest/centring.py)
    created: str  # UTC, from the index's creation date
    serving: bool


def list_versions(client: OpenSearch, alias: str) -> list[Version]:
    """Every ``<alias>-v<timestamp>`` index, newest first."""
    pattern = re.compile(rf"^{re.escape(alias)}-v\d{{17}}$")
    found = client.indices.get(index=f"{alias}-v*", ignore_unavailable=True, allow_no_indices=True)
    serving = set(alias_indices(client, alias))
    versions = []
    for name in sorted((name for name in found if pattern.match(name)), reverse=True):
        meta = found[name]["mappings"].get("_meta", {})
        created_ms = int(found[name]["settings"]["index"]["creation_date"])
        versions.append(Version(name, client.count(index=name)["count"], meta.get("encoder", {}).get("model_id", "?"),
                                meta.get("centring", {}).get("id"),
                                time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(created_ms / 1000)), name in serving))
    return versions


def previous_version(client: OpenSearch, alias: str) -> str:
    """The newest version older than the one ``alias`` serves (what `lingodex rollback` goes back to)."""
    serving = alias_indices(client, alias)
    if len(serving) != 1:
        raise RuntimeError(f"alias {alias!r} serves {serving or 'nothing'}; rollback needs exactly one version")
    older = [version.index for version in list_versions(client, alias) if version.index < serving[0]]
    if not older:
        raise RuntimeError(f"{serving[0]} is the oldest version of {alias!r}; there is nothing to roll back to")
    return older[0]


def promote_version(client: OpenSearch, alias: str, index: str) -> str | None:
    """Point ``alias`` at ``index`` (a version of it); returns what it served before."""
    if not client.indices.exists(index=index) or client.indices.exists_alias(name=index):
        raise RuntimeError(f"no index {index!r} to promote; `lingodex versions --alias {alias}` lists them")
    before = alias_indices(client, alias)
    swap_alias(client, alias, index)
    return before[0] if before else None


def drop_version(client: OpenSearch, index: str) -> None:
    """Delete an old version; refuses the one an alias still serves."""
    aliases = client.indices.get_alias(index=index)[index]["aliases"]
    if aliases:
        raise RuntimeError(f"{index!r} is still served by alias(es) {sorted(aliases)}; swap them first")
    client.indices.delete(index=index)


def merge_segments(client: OpenSearch, index: str, max_segments: int, timeout_s: float = 3600.0) -> None:
    """Force-merge ``index`` to at most ``max_segments`` and refresh: until the refresh, searchers (and
    _cat/segments) still see the old segments. The call answers when the merge is done: a large catalog's HNSW
    graphs take minutes to rebuild, hence the long timeout."""
    client.indices.forcemerge(index=index, max_num_segments=max_segments, request_timeout=timeout_s)
    client.indices.refresh(index=index)


@contextmanager
def bulk_load_settings(client: OpenSearch, index: str) -> Iterator[None]:
    """Refresh off and no replicas while loading; the index's own values restored afterwards, then refreshed."""
    current = client.indices.get_settings(index=index, flat_settings=True)[index]["settings"]
    restore = {key: current.get(key) for key in BULK_LOAD_SETTINGS}  # None resets to the cluster default
    client.indices.put_settings(index=index, body=BULK_LOAD_SETTINGS)
    try:
        yield
    finally:
        client.indices.put_settings(index=index, body=restore)
        client.indices.refresh(index=index)
