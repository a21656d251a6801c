"""Records in, OpenSearch documents out. Owns the index mappings (ingest/index/mappings/)."""
