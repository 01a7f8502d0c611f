"""Loads a NoiseKD model file into the PyTorch reference model, strictly, and optionally compares logits.

    /usr/bin/python3 tests/parity/check_export.py MODEL.safetensors [INPUT.safetensors LOGITS.safetensors]

MODEL is a file written by `noisekd train|import`; INPUT holds a tensor named "input" and LOGITS the
output of `noisekd infer --bn running` on it. Exits 1 when the state dict does not load or the logits
differ from PyTorch's (eval mode, float64) by more than 1e-5 (||ours - torch||_2 / ||torch||_2).
"""
import sys

import torch

import models
import safetensors_io


def main(argv):
    if len(argv) not in (2, 4):
        print(__doc__)
        return 2
    tensors, meta = safetensors_io.read(argv[1])
    model = models.create(meta["arch"], float(meta["width"]), int(meta["in_channels"]), int(meta["classes"]), int(meta["image_size"]))
    model.load_state_dict(tensors, strict=True)  # raises, naming every missing or unexpected key
    print(f"{argv[1]}: {len(tensors)} tensors load into the PyTorch {meta['arch']} (strict)")
    if len(argv) == 4:
        x = safetensors_io.read(argv[2])[0]["input"].double()
        ours = safetensors_io.read(argv[3])[0]["logits"].double()
        with torch.no_grad():
            expected = model.double().eval()(x)
        error = ((ours - expected).norm() / expected.norm()).item()
        print(f"logits relative error {error:.2e}")
        return 0 if error <= 1e-5 else 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
