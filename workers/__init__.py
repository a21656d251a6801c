"""Celery wiring only: tasks call into encoder/, ingest/ and search_templates/."""
