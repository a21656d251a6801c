"""Entry point for worker processes: `celery -A workers.worker worker` (or `lingodex worker`)."""

from lingodex.settings import load_settings
from workers.app import app, configure

configure(load_settings())

__all__ = ["app"]
