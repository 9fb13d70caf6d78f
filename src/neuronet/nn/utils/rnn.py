"""Variable-length sequences in one batch, as ``torch.nn.utils.rnn``: ``pad_sequence`` stacks
sequences of different lengths, padding the short ones; ``unpad_sequence`` cuts them back.

Both are compositions of differentiable ops (pad, stack, narrow), so gradients flow back to
every sequence, and none to the padding. Feed the padded batch to an RNN and take each
sequence's output at its own last step (``out[i, lengths[i] - 1]``), or mask its loss.
(``pack_padded_sequence`` is not implemented: neuronet's RNNs run on padded batches.)

Example:
    >>> import neuronet as nt
    >>> from neuronet.nn.utils.rnn import pad_sequence
    >>> batch = pad_sequence([nt.ones(3, 2), nt.ones(1, 2)], batch_first=True)
    >>> batch.shape
    (2, 3, 2)
    >>> batch[1, :, 0].tolist()
    [1.0, 0.0, 0.0]
"""

from __future__ import annotations

from neuronet.autograd.tensor import Tensor
from neuronet.ops.joining import stack
from neuronet.ops.padding import pad
from neuronet.ops.rearranging import narrow


def pad_sequence(
    sequences, batch_first: bool = False, padding_value: float = 0.0, padding_side: str = "right"
) -> Tensor:
    """Stack (L_i, *) tensors into (L_max, B, *), or (B, L_max, *) with ``batch_first``,
    filling the missing steps with ``padding_value`` after each sequence (``padding_side=
    'right'``) or before it ('left')."""
    sequences = list(sequences)
    if not sequences:
        raise ValueError("pad_sequence: got no sequences; give a list of (L, *) tensors")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor):
            raise TypeError(f"pad_sequence: sequence {i} is a {type(s).__name__}, not a Tensor")
        if s.ndim == 0:
            raise ValueError(f"pad_sequence: sequence {i} is a scalar; each needs a length")
    trailing = sequences[0].shape[1:]
    for i, s in enumerate(sequences):
        if s.shape[1:] != trailing or s.dtype != sequences[0].dtype:
            raise ValueError(
                f"pad_sequence: every sequence needs the same trailing shape and dtype: sequence "
                f"0 is {tuple(sequences[0].shape)} {sequences[0].dtype}, sequence {i} is "
                f"{tuple(s.shape)} {s.dtype}"
            )
    if padding_side not in ("right", "left"):
        raise ValueError(
            f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}"
        )
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        missing = longest - s.shape[0]
        ends = (0, missing) if padding_side == "right" else (missing, 0)
        padded.append(pad(s, (0, 0) * len(trailing) + ends, value=padding_value) if missing else s)
    return stack(padded, dim=0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths, batch_first: bool = False) -> list:
    """The sequences ``pad_sequence`` stacked (right-padded), cut to their ``lengths``."""
    if not isinstance(padded_sequences, Tensor):
        raise TypeError(f"unpad_sequence: expected a Tensor, got {type(padded_sequences).__name__}")
    lengths = lengths.tolist() if isinstance(lengths, Tensor) else list(lengths)
    batch_dim, time_dim = (0, 1) if batch_first else (1, 0)
    if len(lengths) != padded_sequences.shape[batch_dim]:
        raise ValueError(
            f"unpad_sequence: {len(lengths)} lengths for a batch of "
            f"{padded_sequences.shape[batch_dim]} sequences"
        )
    out = []
    for i, n in enumerate(lengths):
        if not 0 <= int(n) <= padded_sequences.shape[time_dim]:
            raise ValueError(
                f"unpad_sequence: length {n} of sequence {i} is outside 0.."
                f"{padded_sequences.shape[time_dim]}"
            )
        seq = padded_sequences[i] if batch_first else padded_sequences[:, i]
        out.append(narrow(seq, 0, 0, int(n)))
    return out


__all__ = ["pad_sequence", "unpad_sequence"]
