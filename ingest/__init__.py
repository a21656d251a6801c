"""Records in, OpenSearch documents out. Owns the index mappings (ingest/mappings/)."""
