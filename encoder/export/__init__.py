"""A model to ONNX, one recipe per precision, with pooling appended and parity to PyTorch proven."""
