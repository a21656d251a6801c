"""Query building, search pipelines and templates, per-language parameters; relevance/ judges and tunes them."""
