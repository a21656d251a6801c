"""The encoder's one error base: a caller (the CLI) can tell 'the model failed' from everything else."""


class EncoderError(Exception):
    """Something about the model: not available offline, an export that lost parity, a bad input."""
