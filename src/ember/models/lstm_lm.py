"""``LSTMLanguageModel`` and ``lstm_lm()``: the byte-level language model of workload W4."""

from __future__ import annotations

from .. import nn
from ..tensor import Tensor
from ._checks import check_tokens, positive_int


class LSTMLanguageModel(nn.Module):
    """Embedding -> LSTM (batch first) -> Linear to the vocabulary, at every time step.

    ``forward(tokens)`` takes integer ids (N, T) and returns next-token logits (N, T, vocab);
    the loss of W4 is cross-entropy over every step
    (``F.cross_entropy(logits.reshape(-1, V), targets.reshape(-1))``).
    Submodules: ``embedding``, ``lstm``, ``head``.
    """

    def __init__(self, vocab_size: int = 256, embedding_dim: int = 128, hidden_size: int = 256,
                 num_layers: int = 1) -> None:
        super().__init__()
        for name, value in (("vocab_size", vocab_size), ("embedding_dim", embedding_dim),
                            ("hidden_size", hidden_size), ("num_layers", num_layers)):
            positive_int("LSTMLanguageModel", name, value)
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.lstm = nn.LSTM(embedding_dim, hidden_size, num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens: Tensor) -> Tensor:
        """Integer ids (N, T) -> logits (N, T, vocab_size); the LSTM starts from zeros."""
        check_tokens("LSTMLanguageModel", tokens)
        output, _ = self.lstm(self.embedding(tokens))
        return self.head(output)


def lstm_lm(vocab_size: int = 256, embedding_dim: int = 128, hidden_size: int = 256,
            num_layers: int = 1) -> LSTMLanguageModel:
    """Workload W4: vocab 256, embedding 128, one LSTM layer of 256, linear to the vocab."""
    return LSTMLanguageModel(vocab_size, embedding_dim, hidden_size, num_layers)


__all__ = ["LSTMLanguageModel", "lstm_lm"]
