"""Run by test_resume.py in a subprocess: train, optionally SIGKILL itself, or resume.

usage: resume_script.py RUN_DIR (fresh|resume) [kill-after-step N | kill-in-checkpoint N]
"""

import os
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import torch  # noqa: E402

torch.set_num_threads(1)

import train_helpers  # noqa: E402

from lstmkit.train import Callback, Trainer  # noqa: E402
from lstmkit.train import checkpoint as ckpt  # noqa: E402

run_dir, mode = sys.argv[1], sys.argv[2]
if len(sys.argv) > 3:
    how, n = sys.argv[3], int(sys.argv[4])
    if how == "kill-after-step":

        class Kill(Callback):
            def on_step_end(self, trainer, model, loss):
                if trainer.global_step == n:
                    os.kill(os.getpid(), signal.SIGKILL)

        _init = Trainer.__init__

        def __init__(self, *a, **k):
            _init(self, *a, **k)
            self.callbacks.append(Kill())

        Trainer.__init__ = __init__
    elif how == "kill-in-checkpoint":
        # die after the tensors of the step-n checkpoint are written, before state.json
        _write = ckpt.atomic_write_json

        def write(path, obj):
            if path.name == ckpt.STATE and path.parent.name.startswith(f".step-{n:08d}"):
                os.kill(os.getpid(), signal.SIGKILL)
            _write(path, obj)

        ckpt.atomic_write_json = write

model, trainer = train_helpers.resume_run(run_dir, resume=(mode == "resume"))
print("done", trainer.global_step)
