"""PyTorch's own float32 CPU error against the float64 model fixtures: the yardstick for ours.

    /usr/bin/python3 tests/parity/torch_float32_error.py

Runs every model fixture's state dict in float32 and prints, like the C# parity tests, the largest
||torch32 - torch64||_2 / ||torch64||_2 of the logits (running and current statistics) and of the
parameter gradients (absolute where the reference is zero up to rounding).
"""
import copy
from pathlib import Path

import torch

import make_fixtures
import models
import safetensors_io


def relative(a, b):
    return ((a - b).norm() / b.norm()).item() if b.norm() > 1e-10 else (a - b).norm().item()


def main():
    torch.set_num_threads(2)
    for path in sorted(make_fixtures.OUT.glob("model_*.safetensors")):
        t, m = safetensors_io.read(path)
        model = models.create(m["arch"], float(m["width"]), int(m["in_channels"]), int(m["classes"]), int(m["image_size"]))
        model.load_state_dict({k[len("state."):]: v for k, v in t.items() if k.startswith("state.")})
        with torch.no_grad():
            running = relative(copy.deepcopy(model).eval()(t["input"]), t["expected.logits_running"])
            current = relative(copy.deepcopy(model).train()(t["input"]), t["expected.logits_current"])
        model.train()
        make_fixtures.kd_loss(model(t["input"]), t["teacher_logits"]).backward()
        grad = max(relative(p.grad, t["grad." + k]) for k, p in model.named_parameters())
        print(f"{Path(path).stem}: logits_running {running:.1e} logits_current {current:.1e} grad {grad:.1e}")


if __name__ == "__main__":
    main()
