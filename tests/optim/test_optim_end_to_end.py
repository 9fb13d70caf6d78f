"""End to end (tinygrad's TinyNet test): a small MLP trained by each optimizer, with gradient
clipping and a warmup + cosine schedule, next to the same model in PyTorch, from the same
initial weights on the same data; losses and weights equal at every step."""

from __future__ import annotations

import numpy as np
import pytest

import neuronet as nt
import neuronet.functional as F
from neuronet import nn, optim
from neuronet.nn.utils import clip_grad_norm_

STEPS = 50

CONFIGS = [
    ("SGD", {"lr": 0.05, "momentum": 0.9, "nesterov": True, "weight_decay": 1e-3}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1}),
    ("RMSprop", {"lr": 0.005, "momentum": 0.5, "centered": True}),
    ("Adagrad", {"lr": 0.05, "lr_decay": 0.01}),
]


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4))
    y = np.sin(x @ np.array([[1.0], [-2.0], [0.5], [1.5]]))
    return x, y


def _torch_net(torch):
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1))


def _our_net(tnet):
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    net.load_state_dict({k: v.double() for k, v in tnet.state_dict().items()})
    return net


@pytest.mark.parametrize("name, options", CONFIGS, ids=[c[0] for c in CONFIGS])
def test_tiny_net_trains_like_torch(name, options, update_path, torch):
    x, y = _data()
    tnet = _torch_net(torch).double()
    net = _our_net(tnet)
    opt = getattr(optim, name)(net.parameters(), **options)
    topt = getattr(torch.optim, name)(tnet.parameters(), **options)
    sched = optim.lr_scheduler.warmup_cosine(opt, warmup_steps=5, total_steps=STEPS)
    L = torch.optim.lr_scheduler
    tsched = L.SequentialLR(
        topt,
        [
            L.LinearLR(topt, start_factor=1 / 5, total_iters=5),
            L.CosineAnnealingLR(topt, T_max=STEPS - 5),
        ],
        milestones=[5],
    )
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    losses = []
    for t in range(STEPS):
        opt.zero_grad()
        loss = F.mse_loss(net(nt.tensor(x)), nt.tensor(y))
        loss.backward()
        norm = clip_grad_norm_(net.parameters(), 0.5)
        opt.step()
        sched.step()
        topt.zero_grad()
        tloss = torch.nn.functional.mse_loss(tnet(xt), yt)
        tloss.backward()
        tnorm = torch.nn.utils.clip_grad_norm_(tnet.parameters(), 0.5)
        topt.step()
        tsched.step()
        assert float(loss) == pytest.approx(tloss.item(), rel=1e-9), f"{name} loss, step {t}"
        assert float(norm) == pytest.approx(tnorm.item(), rel=1e-9), f"{name} norm, step {t}"
        for (key, p), (_, tp) in zip(net.named_parameters(), tnet.named_parameters()):
            np.testing.assert_allclose(
                p.array,
                tp.detach().numpy(),
                rtol=1e-8,
                atol=1e-12,
                err_msg=f"{name} {key} step {t}",
            )
        losses.append(float(loss))
    assert losses[-1] < 0.8 * losses[0], f"{name} did not learn: {losses[0]} -> {losses[-1]}"


def test_lamb_trains_tiny_net(update_path, torch):
    x, y = _data()
    net = _our_net(_torch_net(torch).double())
    opt = optim.LAMB(optim.LAMB.param_groups_for(net, weight_decay=0.01), lr=0.05)
    first = None
    for _ in range(STEPS):
        opt.zero_grad()
        loss = F.mse_loss(net(nt.tensor(x)), nt.tensor(y))
        loss.backward()
        opt.step()
        first = float(loss) if first is None else first
    assert float(loss) < 0.5 * first
