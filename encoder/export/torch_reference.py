"""The PyTorch forward pass: the reference that every ONNX export is checked against.

Needs torch and transformers (the `export` extra); workers never load it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lingodex.encoder.profile import ModelProfile


class TorchForward:
    """A ForwardPass over Hugging Face AutoModel, with the profile's pooling."""

    def __init__(self, model_dir: Path, profile: ModelProfile, device: str = "cpu", dtype: str = "float32") -> None:
        import torch
        from transformers import AutoModel

        self._torch = torch
        self.device = device
        self.model = AutoModel.from_pretrained(
            str(model_dir), add_pooling_layer=False, dtype=getattr(torch, dtype)
        ).to(device).eval()
        self.profile = profile

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        torch = self._torch
        with torch.inference_mode():
            ids = torch.from_numpy(input_ids).to(self.device)
            mask = torch.from_numpy(attention_mask).to(self.device)
            hidden = self.model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
            hidden = hidden.float()
            if self.profile.pooling == "mean":
                weights = mask.unsqueeze(-1).float()
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            else:
                pooled = hidden[:, 0]
            if self.profile.normalize:
                pooled = torch.nn.functional.normalize(pooled, dim=-1)
            return pooled.cpu().numpy()
