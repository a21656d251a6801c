"""lingodex: multilingual product search indexing for OpenSearch.

This package holds only what every other package shares: typed settings, the
OpenSearch connection, the command line and the end-to-end demo. The real work
lives in `encoder/`, `ingest/`, `search_templates/` and `workers/`.
"""

__version__ = "0.1.0"
