"""What `celery -A lingodex.celery_worker worker` loads: the app, bootstrapped with this process's settings."""

from lingodex.settings import load_settings
from lingodex.worker import bootstrap

app = bootstrap(load_settings())

__all__ = ["app"]
