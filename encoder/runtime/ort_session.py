"""An onnxruntime session on CUDA when it can, else CPU; IO binding on CUDA."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort

log = logging.getLogger(__name__)
Provider = Literal["auto", "cuda", "cpu"]


def cuda_available() -> bool:
    return "CUDAExecutionProvider" in ort.get_available_providers()


def choose_provider(requested: Provider) -> str:
    if requested == "cuda" and not cuda_available():
        raise RuntimeError(
            "CUDA execution was requested but onnxruntime has no CUDAExecutionProvider "
            f"(available: {ort.get_available_providers()}); install onnxruntime-gpu on a machine with a GPU"
        )
    if requested == "cpu" or (requested == "auto" and not cuda_available()):
        return "CPUExecutionProvider"
    return "CUDAExecutionProvider"


class EncoderSession:
    """Runs the pooled encoder graph: token arrays in, [batch, dimension] float32 out."""

    def __init__(self, model_path: Path, provider: Provider = "auto", threads: int | None = None) -> None:
        self.provider = choose_provider(provider)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3  # errors only: placement notes (Memcpy nodes) are not actionable here
        if threads:
            options.intra_op_num_threads = threads
        if self.provider == "CUDAExecutionProvider":
            _preload_cuda_libraries()
        self._session = ort.InferenceSession(str(model_path), options, providers=[self.provider])
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._output = self._session.get_outputs()[0].name
        log.info("onnxruntime session", extra={"model": str(model_path), "provider": self.provider})

    def run(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feeds = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "token_type_ids" in self._inputs:
            feeds["token_type_ids"] = np.zeros_like(input_ids)
        if self.provider != "CUDAExecutionProvider":
            return self._session.run([self._output], feeds)[0]
        binding = self._session.io_binding()  # inputs copied once; output allocated on the device
        for name, array in feeds.items():
            binding.bind_cpu_input(name, array)
        binding.bind_output(self._output, "cuda")
        self._session.run_with_iobinding(binding)
        return binding.copy_outputs_to_cpu()[0]


def _preload_cuda_libraries() -> None:
    """onnxruntime-gpu finds CUDA/cuDNN from the nvidia-* wheels (as torch installs them) when asked."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is not None:
        try:
            preload()
        except Exception as error:  # noqa: BLE001 - the session's own error will be clearer
            log.warning("onnxruntime.preload_dlls failed: %s", error)
