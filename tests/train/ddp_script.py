"""Run by test_distributed.py under torchrun: train the adding problem briefly, dump weights.

usage: ddp_script.py OUT_DIR PER_RANK_BATCH
"""

import json
import os
import sys

import torch
from safetensors.torch import save_file

from lstmkit.data.synthetic import adding_problem
from lstmkit.models.sequence import SequenceNetwork, SequenceNetworkConfig
from lstmkit.train import Trainer, TrainerConfig


def run(out_dir, batch_size, quiet=False):
    torch.manual_seed(0)
    model = SequenceNetwork(SequenceNetworkConfig(hidden_size=12))
    train, val = adding_problem(128, 20, seed=1), adding_problem(64, 20, seed=2)
    cfg = TrainerConfig(max_epochs=3, batch_size=batch_size, lr=1e-2, seed=4, run_dir=os.path.join(out_dir, "run"), quiet=quiet, log_every=0)
    trainer = Trainer(cfg)
    history = trainer.fit(model, train, val)
    return model, trainer, history


if __name__ == "__main__":
    out = sys.argv[1]
    model, trainer, history = run(out, int(sys.argv[2]))
    rank = int(os.environ.get("RANK", "0"))
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(out, f"rank{rank}.safetensors"))
    with open(os.path.join(out, f"rank{rank}.json"), "w") as fh:
        json.dump({"history": history, "world_size": trainer.world_size, "rank": trainer.rank}, fh)
