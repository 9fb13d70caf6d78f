"""nn.utils.rnn: pad_sequence / unpad_sequence against torch's, values and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.nn.utils.rnn import pad_sequence, unpad_sequence


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("trailing", [(), (3,), (2, 2)])
def test_pad_sequence_values_and_gradients_match_torch(batch_first, padding_side, trailing, torch):
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((n, *trailing)) for n in (4, 1, 3)]
    ours = [nt.tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    kw = dict(batch_first=batch_first, padding_value=-2.5, padding_side=padding_side)
    out = pad_sequence(ours, **kw)
    tout = torch.nn.utils.rnn.pad_sequence(theirs, **kw)
    np.testing.assert_array_equal(out.detach().numpy(), tout.detach().numpy())
    weights = rng.standard_normal(out.shape)
    (out * nt.tensor(weights)).sum().backward()
    (tout * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a.grad.numpy(), b.grad.numpy())  # the padding gets none


@pytest.mark.parametrize("batch_first", [False, True])
def test_unpad_sequence_undoes_pad_sequence_as_torchs(batch_first, torch):
    rng = np.random.default_rng(1)
    arrays = [rng.standard_normal((n, 2)) for n in (2, 5, 3)]
    padded = pad_sequence([nt.tensor(a) for a in arrays], batch_first=batch_first)
    back = unpad_sequence(padded, nt.tensor([2, 5, 3]), batch_first=batch_first)
    tpadded = torch.nn.utils.rnn.pad_sequence([torch.tensor(a) for a in arrays], batch_first)
    tback = torch.nn.utils.rnn.unpad_sequence(tpadded, torch.tensor([2, 5, 3]), batch_first)
    for a, ours, theirs in zip(arrays, back, tback):
        np.testing.assert_array_equal(ours.numpy(), a)
        np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: pad_sequence([]), ValueError, "got no sequences"),
        (lambda: pad_sequence([nt.ones(2), np.ones(2)]), TypeError, "sequence 1 is a ndarray"),
        (lambda: pad_sequence([nt.ones(2, 3), nt.ones(2, 4)]), ValueError, r"\(2, 4\)"),
        (lambda: pad_sequence([nt.tensor(1.0)]), ValueError, "is a scalar"),
        (lambda: pad_sequence([nt.ones(2)], padding_side="top"), ValueError, "'right' or 'left'"),
        (lambda: unpad_sequence(nt.ones(3, 2), [1]), ValueError, "1 lengths for a batch of 2"),
        (lambda: unpad_sequence(nt.ones(3, 2), [1, 4]), ValueError, "outside 0..3"),
    ],
)
def test_bad_arguments_say_what_is_wrong(call, error, message):
    with pytest.raises(error, match=message):
        call()
