"""Recurrent models: a sequence classifier and a character-level language model."""

from __future__ import annotations

from neuronet import nn
from neuronet.models.base import record_config, register
from neuronet.models.sampling import sample_next

CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}


def _cell(cell: str):
    if cell not in CELLS:
        raise ValueError(f"unknown cell {cell!r}; use 'rnn', 'lstm' or 'gru'")
    return CELLS[cell]


@register
class RecurrentClassifier(nn.Module):
    """Read a sequence with an RNN/LSTM/GRU and classify it from the last time step:

        h_1..h_T = RNN(x_1..x_T);  y = W h_T + b

    Args:
        cell: 'rnn', 'lstm' or 'gru'.
        input_size: features per time step.
        hidden_size, num_layers, bidirectional, dropout: as the recurrent layer's.
        num_classes: outputs.

    Shape: input (N, T, input_size) -> (N, num_classes).
    """

    def __init__(
        self,
        cell="lstm",
        input_size=8,
        hidden_size=128,
        num_layers=1,
        num_classes=10,
        bidirectional=False,
        dropout=0.0,
    ):
        super().__init__()
        record_config(self, locals())
        self.rnn = _cell(cell)(
            input_size,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            bidirectional=bidirectional,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.fc = nn.Linear(hidden_size * (2 if bidirectional else 1), num_classes)

    def forward(self, x):
        out, _ = self.rnn(x)
        return self.fc(out[:, -1])


@register
class RecurrentLM(nn.Module):
    """A character (token) language model: embedding -> RNN/LSTM/GRU -> linear over the vocabulary
    at every step, predicting the next token.

    Shape: input (N, T) token ids -> logits (N, T, vocab_size).
    """

    def __init__(
        self, vocab_size=65, cell="lstm", embed_dim=64, hidden_size=256, num_layers=1, dropout=0.0
    ):
        super().__init__()
        record_config(self, locals())
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = _cell(cell)(
            embed_dim,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, idx, state=None):
        out, _ = self.rnn(self.embed(idx), state)
        return self.head(self.drop(out))

    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None):
        """Extend ``idx`` (N, T) by ``max_new_tokens`` sampled tokens, carrying the hidden state."""
        import numpy as np

        from neuronet.models.sampling import check_generate

        check_generate(type(self).__name__, max_new_tokens, temperature, top_k)
        from neuronet.autograd.grad_mode import no_grad
        from neuronet.autograd.tensor import Tensor

        was_training = self.training
        self.eval()
        tokens = idx.array
        with no_grad():
            out, state = self.rnn(self.embed(idx))
            logits = self.head(out[:, -1])
            for _ in range(max_new_tokens):
                nxt = sample_next(logits.array, temperature, top_k, generator)
                tokens = np.concatenate([tokens, nxt[:, None]], axis=1)
                out, state = self.rnn(self.embed(Tensor(nxt[:, None])), state)
                logits = self.head(out[:, -1])
        self.train(was_training)
        return Tensor(tokens)
