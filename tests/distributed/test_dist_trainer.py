"""The Trainer under MPI: one loop on every rank, rank 0 prints and writes, the epoch's logs are
reduced over the ranks (so ReduceLROnPlateau and EarlyStopping decide alike), and a resume on
the same number of ranks is bitwise exact (ranks/trainer.py)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from mpi_runner import need_mpi, run_ranks  # noqa: E402

pytestmark = pytest.mark.xdist_group("mpi")


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    need_mpi()

    out = tmp_path_factory.mktemp("straight")
    proc = run_ranks("trainer.py", out, 3)
    return out, proc


def _weights(folder):
    with np.load(folder / "weights.npz") as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def test_rank_zero_prints_and_writes_once(straight):
    out, proc = straight
    summaries = [line for line in proc.stdout.splitlines() if re.match(r"epoch \d/3 ", line)]
    assert len(summaries) == 3, proc.stdout  # not once per rank
    rows = (out / "log.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3  # CSVLogger (rank_zero_only): header + one row per epoch
    assert (out / "checkpoint.safetensors").is_file()
    assert not list(out.glob(".*tmp"))


def test_every_rank_sees_the_same_reduced_logs(straight):
    out, _ = straight
    ranks = [json.loads((out / f"history_rank{r}.json").read_text()) for r in (0, 1)]
    assert ranks[0] == ranks[1]
    assert ranks[0][-1] == 0.1  # ReduceLROnPlateau cut the rate after epoch 3, on both ranks


def test_reduced_evaluation_equals_one_process_on_all_the_data(straight):
    """37 validation samples split 19 + 18: the reduced metrics are those of the whole set."""
    out, _ = straight
    result = json.loads((out / "eval.json").read_text())
    assert result["trainer"]["accuracy"] == result["single"]["accuracy"]
    np.testing.assert_allclose(result["trainer"]["loss"], result["single"]["loss"], rtol=1e-6)


def test_resume_on_the_same_number_of_ranks_is_bitwise_exact(straight, mpirun, tmp_path):
    out, _ = straight
    mpirun("trainer.py", tmp_path, 1)
    mpirun("trainer.py", tmp_path, 3, tmp_path / "checkpoint.safetensors")
    for a, b in zip(_weights(out), _weights(tmp_path)):
        assert a.tobytes() == b.tobytes()
    first = json.loads((out / "history_rank0.json").read_text())
    resumed = json.loads((tmp_path / "history_rank0.json").read_text())
    assert [r["val_loss"] for r in first[:-1]] == [r["val_loss"] for r in resumed[:-1]]


def test_resume_with_another_number_of_ranks_is_refused(straight, tmp_path):
    from neuronet import nn, optim
    from neuronet.data import TensorDataset
    from neuronet.distributed import DistributedError
    from neuronet.train import Trainer

    out, _ = straight
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 3))
    trainer = Trainer(model, "cross_entropy", optim.SGD(model.parameters(), lr=0.1), quiet=True)
    data = TensorDataset(np.zeros((100, 5), np.float32), np.zeros(100, np.int64))
    with pytest.raises(DistributedError, match="written by a run of 2 ranks; resume it with"):
        trainer.fit(data, epochs=4, resume=out / "checkpoint.safetensors")
