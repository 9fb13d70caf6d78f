"""Image transforms: formulas, per-sample randomness on batches, seeding, errors."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
from neuronet.data import batch_generator
from neuronet.data._rng import batch_seed
from neuronet.data.transforms import (
    Compose,
    Lambda,
    Normalize,
    RandomCrop,
    RandomHorizontalFlip,
    ToTensor,
)


@pytest.fixture
def images(rng):
    return rng.standard_normal((6, 3, 5, 7)).astype(np.float32)


def test_normalize_formula_dtype_and_kinds(images):
    mean, std = [0.1, 0.2, 0.3], [0.5, 2.0, 4.0]
    out = Normalize(mean, std)(images)
    want = (images - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[
        :, None, None
    ]
    np.testing.assert_array_equal(out, want)
    assert out.dtype == np.float32
    single = Normalize(mean, std)(nt.tensor(images[0]))
    assert isinstance(single, nt.Tensor)
    np.testing.assert_array_equal(single.array, want[0])
    assert Normalize(0.5, 2.0)(images.astype(np.float64)).dtype == np.float64
    copy = images.copy()
    Normalize(mean, std, inplace=True)(copy)
    np.testing.assert_array_equal(copy, want)


def test_normalize_errors(images):
    with pytest.raises(ValueError, match="std evaluated to zero"):
        Normalize([0.0], [0.0])
    with pytest.raises(ValueError, match="mean has 2 values but the image has 3 channels"):
        Normalize([0.0, 0.0], [1.0])(images)
    with pytest.raises(TypeError, match="expected a floating-point image, got dtype uint8"):
        Normalize([0.0], [1.0])(np.zeros((1, 2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"got shape \(64,\)"):
        Normalize([0.0], [1.0])(np.zeros(64, np.float32))
    with pytest.raises(TypeError, match="expected a NumPy array or a neuronet Tensor, got list"):
        Normalize([0.0], [1.0])([1.0])


def _windows(padded: np.ndarray, h: int, w: int) -> list:
    return [
        padded[:, i : i + h, j : j + w]
        for i in range(padded.shape[1] - h + 1)
        for j in range(padded.shape[2] - w + 1)
    ]


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_random_crop_is_a_window_of_the_padded_image(images, mode):
    crop = RandomCrop((4, 6), padding=2, padding_mode=mode, fill=0.5, generator=nt.Generator(0))
    out = crop(images)
    assert out.shape == (6, 3, 4, 6) and out.dtype == np.float32
    widths = ((0, 0), (2, 2), (2, 2))
    for x, y in zip(images, out):
        kwargs = {"constant_values": 0.5} if mode == "constant" else {}
        padded = np.pad(x, widths, mode=mode, **kwargs)
        assert any(np.array_equal(y, win) for win in _windows(padded, 4, 6))


def test_random_crop_draws_per_sample_and_is_seeded(images):
    batch = np.repeat(images[:1], 32, axis=0)
    out = RandomCrop(5, padding=4, generator=nt.Generator(3))(batch)
    distinct = {o.tobytes() for o in out}
    assert len(distinct) > 8  # independent windows for identical inputs
    again = RandomCrop(5, padding=4, generator=nt.Generator(3))(batch)
    np.testing.assert_array_equal(out, again)
    single = RandomCrop(3, generator=nt.Generator(0))(nt.tensor(images[0]))
    assert isinstance(single, nt.Tensor) and single.shape == (3, 3, 3)


def test_random_crop_padding_conventions(images):
    x = images[:1]
    four = RandomCrop((5 + 1 + 3, 7 + 2 + 4), padding=(2, 1, 4, 3), generator=nt.Generator(0))
    out = four(x)  # (left, top, right, bottom): the crop is the whole padded image
    np.testing.assert_array_equal(out[0], np.pad(x[0], ((0, 0), (1, 3), (2, 4))))
    two = RandomCrop((5 + 2, 7 + 4), padding=(2, 1), generator=nt.Generator(0))(x)
    np.testing.assert_array_equal(two[0], np.pad(x[0], ((0, 0), (1, 1), (2, 2))))
    grown = RandomCrop(9, pad_if_needed=True, generator=nt.Generator(0))(x)
    assert grown.shape == (1, 3, 9, 9)


def test_random_crop_errors(images):
    with pytest.raises(ValueError, match=r"crop size \(9, 9\) is larger than the \(padded\)"):
        RandomCrop(9)(images)
    with pytest.raises(ValueError, match="padding_mode must be one of"):
        RandomCrop(3, padding_mode="wrap")
    with pytest.raises(ValueError, match="padding must be an int or a sequence of 2 or 4"):
        RandomCrop(3, padding=(1, 2, 3))
    with pytest.raises(ValueError, match="flattened images must be reshaped first"):
        RandomCrop(3)(np.zeros((4, 64), np.float32))


def test_horizontal_flip(images):
    out = RandomHorizontalFlip(1.0)(images)
    np.testing.assert_array_equal(out, images[..., ::-1])
    np.testing.assert_array_equal(RandomHorizontalFlip(0.0)(images), images)
    many = np.repeat(images[:1], 200, axis=0)
    flipped = RandomHorizontalFlip(0.3, generator=nt.Generator(0))(many)
    share = (flipped != many).any(axis=(1, 2, 3)).mean()
    assert 0.2 < share < 0.4
    one = RandomHorizontalFlip(1.0)(nt.tensor(images[0]))
    np.testing.assert_array_equal(one.array, images[0][..., ::-1])
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\], got 1.5"):
        RandomHorizontalFlip(1.5)


def test_default_randomness_comes_from_the_batch_generator(images):
    crop = Compose([RandomCrop(4, padding=1), RandomHorizontalFlip()])
    with batch_seed(5, 2):
        a = crop(images)
    with batch_seed(5, 2):
        b = crop(images)
    with batch_seed(5, 3):
        c = crop(images)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert batch_generator() is nt.random.default_generator


def test_to_tensor_and_lambda():
    hwc = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    t = ToTensor()(hwc)
    assert isinstance(t, nt.Tensor) and t.shape == (3, 2, 3) and t.dtype == np.float32
    np.testing.assert_array_equal(t.array, hwc.transpose(2, 0, 1).astype(np.float32) / 255)
    assert ToTensor()(np.zeros((4, 2, 3, 3), np.uint8)).shape == (4, 3, 2, 3)
    assert ToTensor()(np.zeros((5, 6), np.float64)).dtype == np.float64
    with pytest.raises(ValueError, match="expected \\(H, W\\), \\(H, W, C\\) or"):
        ToTensor()(np.zeros(3))
    assert Lambda(lambda x: x + 1)(np.zeros(1)).tolist() == [1.0]
    with pytest.raises(TypeError, match="fn should be callable"):
        Lambda(3)
    assert "RandomCrop" in repr(Compose([RandomCrop(2)]))


def test_to_tensor_matches_torch_division(torch):
    data = np.arange(256, dtype=np.uint8).reshape(16, 16, 1)
    ours = ToTensor()(data).array
    theirs = torch.from_numpy(data.transpose(2, 0, 1).copy()).float().div(255).numpy()
    np.testing.assert_array_equal(ours, theirs)
