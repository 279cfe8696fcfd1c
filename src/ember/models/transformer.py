"""``TransformerTagger`` and ``transformer()``: the per-token Transformer classifier of W5."""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from ._checks import check_tokens, positive_int


class TransformerTagger(nn.Module):
    """Token embedding + learned positional embedding -> ``num_layers`` post-norm
    ``TransformerEncoderLayer``s (GELU, batch first) -> Linear to ``num_classes`` per token.

    Choices W5 leaves open, stated here: positions are a learned ``nn.Embedding(max_len,
    d_model)`` (PyTorch's default N(0, 1) init) added to the token embedding, so sequences are
    at most ``max_len`` (64) tokens; layers are post-norm (PyTorch's default
    ``norm_first=False``), with no final LayerNorm; ``dropout`` defaults to 0.0 (W5 specifies
    none) instead of PyTorch's 0.1; no attention mask (every token sees every token).
    Submodules: ``embedding``, ``position``, ``encoder`` (a ``TransformerEncoder``), ``head``.
    """

    def __init__(self, vocab_size: int = 1000, num_classes: int = 1000, d_model: int = 128,
                 nhead: int = 4, dim_feedforward: int = 512, num_layers: int = 2,
                 max_len: int = 64, dropout: float = 0.0) -> None:
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("num_classes", num_classes),
                            ("d_model", d_model), ("nhead", nhead),
                            ("dim_feedforward", dim_feedforward), ("num_layers", num_layers),
                            ("max_len", max_len)):
            positive_int("TransformerTagger", name, value)
        self.max_len = max_len
        self.embedding = nn.Embedding(vocab_size, d_model)
        self.position = nn.Embedding(max_len, d_model)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=dropout,
                                           activation="gelu", batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.head = nn.Linear(d_model, num_classes)

    def forward(self, tokens: Tensor) -> Tensor:
        """Integer ids (N, T), T <= max_len -> logits (N, T, num_classes)."""
        check_tokens("TransformerTagger", tokens, self.max_len)
        x = self.embedding(tokens) + self.position.weight[:tokens.shape[1]]
        return self.head(self.encoder(x))


def transformer(vocab_size: int = 1000, num_classes: int = 1000, d_model: int = 128,
                nhead: int = 4, dim_feedforward: int = 512, num_layers: int = 2,
                max_len: int = 64, dropout: float = 0.0) -> TransformerTagger:
    """Workload W5: a 2-layer Transformer encoder (d_model 128, 4 heads, FFN 512, GELU,
    LayerNorm) classifying each of up to 64 tokens (vocab 1000) into 1000 classes."""
    return TransformerTagger(vocab_size, num_classes, d_model, nhead, dim_feedforward,
                             num_layers, max_len, dropout)


__all__ = ["TransformerTagger", "transformer"]
