"""Index administration: mappings (JSON bodies in mappings/), documents, versions and promotion, bulk loading, stored vectors, the load lock."""
