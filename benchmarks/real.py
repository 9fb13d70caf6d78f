"""End-to-end training on real data, neuronet next to PyTorch: wall time and the quality reached.

    python benchmarks/real.py [--recipes lenet,gpt] [--pairs 2] [--gpt-steps 2000] [--threads N]
                              [--fashion-dir /usr/share/datasets/fashion-mnist]

Two recipes, each run in both frameworks with the same data in the same order, each run in a
process of its own, processes alternating (see harness.py):

- ``lenet``: LeNet-5 (neuronet's ``models.LeNet``, 'same' 5x5 convolutions, and its PyTorch twin)
  on Fashion-MNIST, 3 epochs, Adam lr 1e-3, batch 64, shuffled by one NumPy permutation per
  epoch shared by both; then test accuracy. The data are the IDX files of the Debian package
  ``dataset-fashion-mnist`` (``apt-get install dataset-fashion-mnist``).
- ``gpt``: the benchmark GPT (4 blocks, d=128, 4 heads, context 64) as a character model on
  tiny Shakespeare (``../shared/data/tinyshakespeare.txt``, 90/10 split), AdamW lr 1e-3,
  batch 32, ``--gpt-steps`` steps; then the validation loss on 20 fixed batches.

Wall time is the training loop plus the final evaluation, after the data are in memory and the
model is built (process start and imports excluded; they are the same for every epoch count).
"""

from __future__ import annotations

import gzip
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import harness  # noqa: E402

SCRIPT = str(Path(__file__).resolve())
FASHION = "/usr/share/datasets/fashion-mnist"
SHAKESPEARE = ROOT.parent / "shared" / "data" / "tinyshakespeare.txt"


def read_idx(path: Path):
    import numpy as np

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    shape = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def fashion(directory: str):
    import numpy as np

    d = Path(directory)

    def part(prefix):
        images = next(d.glob(f"{prefix}-images-idx3-ubyte*"))
        labels = next(d.glob(f"{prefix}-labels-idx1-ubyte*"))
        x = read_idx(images).astype(np.float32)[:, None] / 255.0
        return (x - 0.2860) / 0.3530, read_idx(labels).astype(np.int64)

    return part("train"), part("t10k")


# ---- the two frameworks' models and steps ---------------------------------------------------
def torch_lenet(torch):
    nn = torch.nn
    return nn.Sequential(
        nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
        ),
        nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 7 * 7, 120),
            nn.ReLU(),
            nn.Dropout(0.0),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Dropout(0.0),
            nn.Linear(84, 10),
        ),
    )


class Framework:
    """The handful of calls the recipes need, for one framework."""

    def __init__(self, name: str, threads):
        self.name = name
        if name == "torch":
            self.lib = harness.torch_or_none(threads)
            self.lib.manual_seed(0)
            self.F = self.lib.nn.functional
        else:
            import neuronet
            import neuronet.functional as F

            neuronet.manual_seed(0)
            self.lib = neuronet
            self.F = F

    def tensor(self, array):
        return self.lib.from_numpy(array)

    def no_grad(self):
        return self.lib.no_grad()

    def lenet(self):
        if self.name == "torch":
            return torch_lenet(self.lib)
        from neuronet.models import LeNet

        return LeNet(1, 10, image_size=28)

    def gpt(self):
        from benchmarks import models_neuronet, models_torch

        return (models_torch if self.name == "torch" else models_neuronet).model_for("gpt")

    def optim(self):
        return self.lib.optim


def lenet_recipe(fw: Framework, args) -> dict:
    import numpy as np

    (x, y), (tx, ty) = fashion(args.fashion_dir)
    model = fw.lenet()
    opt = fw.optim().Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    model.train()
    for _ in range(3):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 64):
            idx = order[i : i + 64]
            loss = fw.F.cross_entropy(model(fw.tensor(x[idx])), fw.tensor(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    correct = 0
    with fw.no_grad():
        for i in range(0, len(tx), 1000):
            logits = model(fw.tensor(tx[i : i + 1000])).numpy()
            correct += int((logits.argmax(1) == ty[i : i + 1000]).sum())
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "quality": correct / len(tx), "metric": "test accuracy"}


def gpt_recipe(fw: Framework, args) -> dict:
    import numpy as np

    text = SHAKESPEARE.read_text(encoding="utf-8")
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], dtype=np.int64)
    split = int(0.9 * len(ids))
    train, val = ids[:split], ids[split:]
    model = fw.gpt()
    opt = fw.optim().AdamW(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)

    def batch(data, starts):
        xb = np.stack([data[s : s + 64] for s in starts])
        yb = np.stack([data[s + 1 : s + 65] for s in starts])
        return fw.tensor(xb), fw.tensor(yb.reshape(-1))

    start = time.perf_counter()
    model.train()
    for _ in range(args.gpt_steps):
        xb, yb = batch(train, rng.integers(0, len(train) - 65, 32))
        loss = fw.F.cross_entropy(model(xb).reshape(-1, 65), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    losses = []
    eval_rng = np.random.default_rng(1)
    with fw.no_grad():
        for _ in range(20):
            xb, yb = batch(val, eval_rng.integers(0, len(val) - 65, 32))
            losses.append(float(fw.F.cross_entropy(model(xb).reshape(-1, 65), yb).item()))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "quality": statistics.mean(losses), "metric": "val loss"}


RECIPES = {"lenet": lenet_recipe, "gpt": gpt_recipe}


def child(argv: list) -> None:
    framework, recipe = argv[0], argv[1]
    args = parser().parse_args(argv[2:])
    fw = Framework(framework, args.threads)
    result = RECIPES[recipe](fw, args)
    torch = framework == "torch"
    result["kernel"] = harness.torch_kernel(fw.lib) if torch else harness.blas_kernel()
    harness.emit(result)


def parser() -> harness.Parser:
    parser = harness.Parser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="lenet,gpt")
    parser.add_argument("--pairs", type=int, default=2, help="processes per framework")
    parser.add_argument("--gpt-steps", dest="gpt_steps", type=int, default=2000)
    parser.add_argument("--fashion-dir", dest="fashion_dir", default=FASHION)
    parser.add_argument("--threads", type=int, help="threads for every pool of both frameworks")
    return parser


def main(argv=None) -> dict:
    options = parser()
    args = options.parse_args(argv)
    recipes = options.names("--recipes", args.recipes, list(RECIPES))
    options.at_least(args, pairs=1, gpt_steps=1, threads=1)
    if "lenet" in recipes and not Path(args.fashion_dir).is_dir():
        options.error(
            f"--fashion-dir {args.fashion_dir} not found; apt-get install "
            "dataset-fashion-mnist, give --fashion-dir, or run --recipes gpt"
        )
    if "gpt" in recipes and not SHAKESPEARE.is_file():
        options.error(
            f"{SHAKESPEARE} not found (the repository's ../shared/data); run --recipes lenet"
        )
    passthrough = ["--gpt-steps", args.gpt_steps, "--fashion-dir", args.fashion_dir]
    results = {}
    for recipe in recipes:
        runs = harness.run_pairs(SCRIPT, [recipe, *passthrough], args.pairs, args.threads)
        results[recipe] = runs
        for framework, rs in runs.items():
            secs = [r["seconds"] for r in rs]
            quality = ", ".join(f"{r['quality']:.4f}" for r in rs)
            print(
                f"{recipe:<6} {framework:<9} wall {statistics.median(secs):7.1f} s "
                f"({min(secs):.1f}-{max(secs):.1f})   {rs[0]['metric']} {quality}   "
                f"[{rs[0]['kernel']}]",
                flush=True,
            )
        if "torch" in runs:
            ratio = statistics.median(r["seconds"] for r in runs["neuronet"]) / statistics.median(
                r["seconds"] for r in runs["torch"]
            )
            print(f"{recipe:<6} ratio neuronet/torch wall time {ratio:.2f}")
    return results


if __name__ == "__main__":
    if "--child" in sys.argv:
        i = sys.argv.index("--child")
        child(sys.argv[i + 1 : i + 3] + [a for a in sys.argv[i + 3 :]])
    else:
        main()
