"""Query building, search pipelines and templates (issue #5 adds tuning)."""
