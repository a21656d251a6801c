"""The ingest job built from the whole Settings: the one place that knows where each collaborator comes from."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lingodex.ingest.job import IngestJob, JobRecord
from lingodex.settings import Settings


def jobs_dir(settings: Settings) -> Path:
    """Where job records and their dead letters live: <home>/jobs."""
    return settings.home / "jobs"


def build_ingest_job(settings: Settings, *, field_mapping: Path | None = None,
                     on_progress: Callable[[JobRecord], None] = lambda job: None) -> IngestJob:
    """An IngestJob wired from settings: cluster client, task sender, validator, encoder identity."""
    from lingodex.connection import opensearch_client
    from lingodex.encoder.factory import describe_encoder
    from lingodex.ingest.catalog.field_mapping import FieldMapping
    from lingodex.ingest.catalog.language import LanguageDetector
    from lingodex.ingest.catalog.validate import RecordValidator
    from lingodex.ingest.index.mappings import EncoderIdentity
    from lingodex.workers.app import client_app
    from lingodex.workers.celery_config import celery_config

    options = settings.ingest
    validator = RecordValidator(FieldMapping.load(field_mapping or options.field_mapping),
                                LanguageDetector(options.detect_languages, options.min_language_confidence),
                                options.max_description_chars)
    sender = client_app(celery_config(settings.broker, settings.home))
    return IngestJob(options, jobs_dir(settings), opensearch_client(settings.opensearch), sender, validator,
                     EncoderIdentity(*describe_encoder(settings.encoder)), on_progress=on_progress)
