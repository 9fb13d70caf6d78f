"""Stand-ins with PyTorch's optimizer and scheduler state_dict interface (duck-typed), and a
writer of hand-made files with a valid checksum."""

from __future__ import annotations

import copy

import numpy as np
import safetensors.numpy

from neuronet.io import files


def sealed(path, tensors: dict, metadata: dict) -> None:
    """Write a safetensors file with neuronet's checksum over whatever content it is given
    (to test what the loaders do with well-formed but wrong files)."""
    meta = {"neuronet.format_version": str(files.FORMAT_VERSION), **metadata}
    meta[files.CRC_KEY] = files.checksum(tensors, meta)
    path.write_bytes(safetensors.numpy.save(tensors, metadata=meta))


class FakeSGD:
    """SGD with momentum; state_dict() = {'state': {i: {...}}, 'param_groups': [...]}."""

    def __init__(self, params, lr=0.1, momentum=0.9):
        self.params = list(params)
        self.param_groups = [
            {"params": self.params, "lr": lr, "momentum": momentum, "betas": (0.9, 0.999)}
        ]
        self.state = {}

    def zero_grad(self):
        for p in self.params:
            p.grad = None

    def step(self):
        group = self.param_groups[0]
        for i, p in enumerate(self.params):
            if p.grad is None:
                continue
            st = self.state.setdefault(i, {"step": 0, "momentum_buffer": np.zeros_like(p.array)})
            st["step"] += 1
            buf = st["momentum_buffer"]
            buf *= group["momentum"]
            buf += p.grad.array
            p.array -= group["lr"] * buf

    def state_dict(self):
        groups = []
        for g in self.param_groups:
            d = {k: v for k, v in g.items() if k != "params"}
            d["params"] = list(range(len(g["params"])))
            groups.append(d)
        return {"state": self.state, "param_groups": groups}

    def load_state_dict(self, state):
        saved = state["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        for g, s in zip(self.param_groups, saved):
            g.update({k: v for k, v in s.items() if k != "params"})
        self.state = {int(k): copy.deepcopy(v) for k, v in state["state"].items()}


class FakeScheduler:
    def __init__(self, optimizer):
        self.optimizer = optimizer
        self.last_epoch = 0
        self.base_lrs = [g["lr"] for g in optimizer.param_groups]

    def step(self):
        self.last_epoch += 1
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = base * 0.95**self.last_epoch

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state):
        self.last_epoch = state["last_epoch"]
        self.base_lrs = list(state["base_lrs"])
