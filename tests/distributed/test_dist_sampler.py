"""DistributedSampler (no MPI needed: num_replicas and rank given) and DataLoader(sampler=)."""

from __future__ import annotations

import numpy as np
import pytest

from neuronet.data import DataLoader, Sampler, TensorDataset
from neuronet.distributed import DistributedSampler


@pytest.mark.parametrize("n, world", [(10, 3), (12, 4), (5, 2), (3, 5)])
@pytest.mark.parametrize("shuffle", [True, False])
def test_shares_are_equal_and_cover_the_data_once_plus_padding(n, world, shuffle):
    shares = [list(DistributedSampler(range(n), world, r, shuffle=shuffle)) for r in range(world)]
    lengths = {len(s) for s in shares}
    assert lengths == {-(-n // world)}  # equal numbers of samples (and of batches)
    flat = [i for s in shares for i in s]
    assert set(flat) == set(range(n))  # every sample is somewhere
    assert len(flat) - n == (-n) % world  # exactly the padding repeats


def test_drop_last_cuts_the_tail_instead():
    shares = [
        list(DistributedSampler(range(10), 3, r, shuffle=False, drop_last=True)) for r in range(3)
    ]
    assert shares == [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


def test_matches_torch_without_shuffle(torch):
    from torch.utils.data.distributed import DistributedSampler as TorchSampler

    for n, world, drop_last in [(10, 3, False), (10, 3, True), (7, 4, False), (2, 5, False)]:
        for r in range(world):
            ours = list(DistributedSampler(range(n), world, r, shuffle=False, drop_last=drop_last))
            theirs = list(TorchSampler(range(n), world, r, shuffle=False, drop_last=drop_last))
            assert ours == theirs, (n, world, r, drop_last)
            assert len(DistributedSampler(range(n), world, r, False, drop_last=drop_last)) == len(
                TorchSampler(range(n), world, r, False, drop_last=drop_last)
            )


def test_set_epoch_reshuffles_the_same_way_on_every_rank():
    a = [DistributedSampler(range(20), 2, r, seed=5) for r in range(2)]
    first = [list(s) for s in a]
    for s in a:
        s.set_epoch(1)
    second = [list(s) for s in a]
    assert first != second
    assert sorted(first[0] + first[1]) == sorted(second[0] + second[1]) == list(range(20))
    again = DistributedSampler(range(20), 2, 0, seed=5)
    again.set_epoch(1)
    assert list(again) == second[0]  # a function of (seed, epoch) only


def test_bad_arguments_are_refused():
    with pytest.raises(
        ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"
    ):
        DistributedSampler(range(4), 2, 2)
    with pytest.raises(ValueError, match="leaves rank 0 nothing"):
        DistributedSampler(range(2), 3, 0, drop_last=True)


def test_rank_defaults_need_init():
    from neuronet.distributed import DistributedError

    with pytest.raises(DistributedError, match=r"call neuronet.distributed.init\(\) first"):
        DistributedSampler(range(4))


def test_dataloader_takes_a_sampler():
    data = TensorDataset(np.arange(10, dtype=np.float32), np.arange(10))
    sampler = DistributedSampler(data, 3, 1, shuffle=False)
    assert isinstance(sampler, Sampler)  # as torch's is a torch.utils.data.Sampler
    loader = DataLoader(data, batch_size=3, sampler=sampler)
    assert len(loader) == 2
    assert [y.array.tolist() for _, y in loader] == [[1, 4, 7], [0]]
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(data, batch_size=3, shuffle=True, sampler=sampler)


def test_dataloader_resumes_inside_a_sampled_epoch():
    data = TensorDataset(np.arange(20, dtype=np.float32), np.arange(20))
    sampler = DistributedSampler(data, 2, 0, seed=1)
    loader = DataLoader(data, batch_size=3, sampler=sampler)
    it = iter(loader)
    next(it)
    state = loader.state_dict()
    rest = [y.array.tolist() for _, y in it]
    again = DataLoader(data, batch_size=3, sampler=DistributedSampler(data, 2, 0, seed=1))
    again.load_state_dict(state)
    assert [y.array.tolist() for _, y in again] == rest
