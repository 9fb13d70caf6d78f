"""Ctrl-C during fit: stops after the current batch, writes a checkpoint, returns the history."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

SCRIPT = textwrap.dedent("""
    import sys, time
    import neuronet as nt
    from neuronet import nn, optim
    from neuronet.data import load_digits
    from neuronet.train import Trainer, Callback

    class Slow(Callback):
        def on_batch_end(self, step, logs=None):
            if step == 3:
                print("READY", flush=True)
            time.sleep(0.05)

    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    trainer = Trainer(model, "cross_entropy", optim.Adam(model.parameters()), quiet=True,
                      callbacks=[Slow()], out_dir=sys.argv[1])
    history = trainer.fit(load_digits("train"), epochs=1000)
    print("RETURNED", len(history.steps), trainer.global_step, trainer.interrupted, flush=True)
""")


def test_sigint_stops_cleanly_and_writes_a_checkpoint(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    line = ""
    while "READY" not in line and time.time() < deadline:
        line = proc.stdout.readline()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    returned = [l for l in out.splitlines() if l.startswith("RETURNED")]
    assert returned, out + err
    _, steps, global_step, interrupted = returned[0].split()
    assert interrupted == "True" and steps == global_step
    assert (tmp_path / "checkpoint.safetensors").is_file()
    assert "Interrupted" not in err or "checkpoint written" in err

    # The checkpoint resumes exactly where the interrupted run stopped.
    import neuronet as nt
    from neuronet import nn, optim
    from neuronet.train import Trainer

    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    trainer = Trainer(model, "cross_entropy", optim.Adam(model.parameters()), quiet=True)
    train = nt.data.load_digits("train")
    trainer.fit(train, epochs=1, resume=tmp_path / "checkpoint.safetensors")
    assert trainer.global_step == -(-len(train) // 32)  # epoch 0 finished, no batch twice
