"""The query side's one error base: a search that cannot be run as asked."""


class SearchError(Exception):
    """A query, filter or page the search cannot serve (the message says which and why)."""


class RemoteModelError(SearchError):
    """ml-commons refused or failed to set up the remote model on `lingodex serve` (the message says which step)."""
