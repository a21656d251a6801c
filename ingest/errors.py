"""The ingest package's one error base: a catalog, index or load problem the user can act on."""


class IngestError(Exception):
    """A load cannot go on as asked: another load holds the alias, an index of another model, the cluster away."""
