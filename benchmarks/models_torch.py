"""The benchmark workloads in PyTorch, layer for layer the same as models_neuronet.py."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Residual(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + x)


def cbr(ci, co, stride=1):
    return nn.Sequential(
        nn.Conv2d(ci, co, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(co), nn.ReLU()
    )


class LSTMNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(64, 256, batch_first=True)
        self.fc = nn.Linear(256, 10)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out[:, -1])


class Block(nn.Module):
    def __init__(self, d=128, h=4, context=64):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, h, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))
        self.register_buffer(
            "mask", torch.triu(torch.ones(context, context, dtype=torch.bool), 1), persistent=False
        )

    def forward(self, x):
        h = self.ln1(x)
        x = x + self.attn(h, h, h, attn_mask=self.mask, need_weights=False, is_causal=True)[0]
        return x + self.mlp(self.ln2(x))


class GPTNet(nn.Module):
    def __init__(self, context=64):
        super().__init__()
        self.tok = nn.Embedding(65, 128)
        self.pos = nn.Embedding(context, 128)
        self.blocks = nn.Sequential(*[Block(context=context) for _ in range(4)])
        self.ln = nn.LayerNorm(128)
        self.head = nn.Linear(128, 65)

    def forward(self, idx):
        x = self.tok(idx) + self.pos(torch.arange(idx.shape[1]))
        return self.head(self.ln(self.blocks(x)))


def model_for(name, context=64):
    if name == "mlp":
        return nn.Sequential(
            nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)
        )
    if name == "autoencoder":
        return nn.Sequential(
            nn.Linear(784, 256),
            nn.ReLU(),
            nn.Linear(256, 64),
            nn.ReLU(),
            nn.Linear(64, 256),
            nn.ReLU(),
            nn.Linear(256, 784),
        )
    if name == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 32, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(1600, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )
    if name == "lstm":
        return LSTMNet()
    if name == "gpt":
        return GPTNet(context)
    return nn.Sequential(
        cbr(3, 32),
        Residual(32),
        cbr(32, 64, 2),
        Residual(64),
        cbr(64, 128, 2),
        Residual(128),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(128, 10),
    )


def build(name, x, y, context=64, compiled=False):
    """(step, infer) in PyTorch eager, or with ``compiled`` through ``torch.compile`` (the
    default inductor backend; the first calls compile, so time them apart)."""
    torch.manual_seed(0)
    model = model_for(name, context)
    if compiled:
        model = torch.compile(model)  # shares the parameters, so the optimizer below is the same
    if name == "gpt":
        opt = torch.optim.AdamW(model.parameters(), lr=3e-4)
    elif name == "resnet":
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    else:
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)

    def loss_of(out):
        if name == "autoencoder":
            return F.binary_cross_entropy_with_logits(out, yt)
        if name == "gpt":
            return F.cross_entropy(out.reshape(-1, 65), yt.reshape(-1))
        return F.cross_entropy(out, yt)

    def step():
        opt.zero_grad()
        loss = loss_of(model(xt))
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            model(xt)

    return step, infer
