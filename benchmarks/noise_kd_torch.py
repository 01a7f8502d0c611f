"""Gaussian-noise KD in PyTorch, as an independent yardstick for `noisekd distill` (not used at run time).

    /usr/bin/python3 benchmarks/noise_kd_torch.py --teacher MODEL.safetensors --student mobilenetv2 --width 0.125 \
        [--recipe paper|engine] [--teacher-bn current|running] [--epochs 1] [--steps 300] [--batch-size B] [--seed 0] \
        [--data DIR]

The same recipes as our `distill --recipe paper|engine`: the teacher (a NoiseKD model file, loaded strictly into
tests/parity/models.py) sees N(0,1) noise in the normalized input space with its BatchNorm on current batch
statistics (train mode, running buffers left alone) or on running statistics (eval mode); the student trains
in train mode on soft-target cross-entropy at T=1 (or `--loss kl:T`). `--recipe engine`: SGD (lr 0.1, momentum 0.9,
weight decay 5e-4, cosine over the run), batch 128, evaluation batch 500. `--recipe paper` (the noise-KD paper's public
code, distill_gaussian.py): Adam (lr 1e-3, no weight decay), ReduceLROnPlateau(patience 10) stepped after every epoch on
the student's test cross-entropy, batch 256, evaluation batch 256. The student is evaluated on the 10,000 test images of
the teacher file's dataset (Fashion-MNIST: the IDX files under --data, default /usr/share/datasets/fashion-mnist; CIFAR-10:
test_batch.bin under --data, default noisekd's data root: $NOISEKD_DATA_ROOT, $XDG_DATA_HOME/noisekd/datasets or
~/.local/share/noisekd/datasets, then cifar10/; as `noisekd data fetch cifar10` writes it)
with its BN on current statistics after every epoch. Prints one JSON line:
{"acc_cs": ..., "kd_loss_first": ..., "kd_loss_last": ..., "seconds": ...}.
"""
import argparse
import gzip
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "parity"))
import models  # noqa: E402
import safetensors_io  # noqa: E402


def read_idx(path):
    with (gzip.open(path) if path.endswith(".gz") else open(path, "rb")) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def find(folder, stem):
    for name in (stem + ".gz", stem):
        if os.path.exists(os.path.join(folder, name)):
            return os.path.join(folder, name)
    raise SystemExit(f"{stem} not found in {folder}")


def test_split(dataset, folder, c, s):
    """The 10,000 test images in [0, 1] as N x C x S x S floats, and their labels."""
    if dataset == "cifar10":
        root = os.environ.get("NOISEKD_DATA_ROOT") or os.path.join(os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share"), "noisekd", "datasets")
        folder = folder or os.path.join(root, "cifar10")  # noisekd's data root (src/NoiseKD.Data/DataRoot.cs)
        path = os.path.join(folder, "test_batch.bin")
        if not os.path.exists(path):
            raise SystemExit(f"{path} not found: run `noisekd data fetch cifar10` (or pass --data)")
        records = torch.frombuffer(bytearray(open(path, "rb").read()), dtype=torch.uint8).reshape(-1, 1 + 3 * 32 * 32)
        return records[:, 1:].float().div(255).reshape(-1, 3, 32, 32), records[:, 0].long()
    if dataset != "fashion-mnist":
        raise SystemExit(f"the teacher's dataset '{dataset}' is not one this script reads (fashion-mnist, cifar10)")
    folder = folder or "/usr/share/datasets/fashion-mnist"
    images = read_idx(find(folder, "t10k-images-idx3-ubyte")).float().div(255).reshape(-1, c, s, s)
    return images, read_idx(find(folder, "t10k-labels-idx1-ubyte")).long()


def track_running_stats(model, on):
    """In train mode, BatchNorm without tracking normalizes with the batch's statistics and leaves its buffers alone."""
    for m in model.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            m.track_running_stats = on


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--teacher", required=True)
    p.add_argument("--student", default="resnet18")
    p.add_argument("--width", type=float, default=0.125)
    p.add_argument("--teacher-bn", default="current", choices=["current", "running"])
    p.add_argument("--recipe", default="engine", choices=["paper", "engine"])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--steps", type=int, default=300, help="noise batches per epoch")
    p.add_argument("--batch-size", type=int, default=None, help="default: the recipe's (paper 256, engine 128)")
    p.add_argument("--lr", type=float, default=None, help="default: the recipe's (paper 1e-3, engine 0.1)")
    p.add_argument("--loss", default="soft-ce", help="soft-ce (T=1, the paper's code) or kl:T (KL at temperature T, times T^2)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data", default=None, help="the test split's folder (default: where noisekd keeps the teacher's dataset)")
    a = p.parse_args()
    paper = a.recipe == "paper"
    batch = a.batch_size or (256 if paper else 128)
    eval_batch = 256 if paper else 500
    lr = a.lr or (1e-3 if paper else 0.1)
    temperature = None if a.loss == "soft-ce" else float(a.loss.split(":")[1]) if a.loss.startswith("kl:") else p.error(f"--loss {a.loss}")
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)

    tensors, meta = safetensors_io.read(a.teacher)
    c, s = int(meta["in_channels"]), int(meta["image_size"])
    teacher = models.create(meta["arch"], float(meta["width"]), c, int(meta["classes"]), s)
    teacher.load_state_dict(tensors, strict=True)
    mean, std = (torch.tensor([float(v) for v in meta[key].split(",")]) for key in ("norm_mean", "norm_std"))  # ModelFile writes "m1,m2,.."
    track_running_stats(teacher, a.teacher_bn == "running")  # current: normalize with batch statistics, leave the buffers alone
    teacher.train(a.teacher_bn == "current")
    for q in teacher.parameters():
        q.requires_grad_(False)

    student = models.create(a.student, a.width, c, int(meta["classes"]), s)
    student.train()
    if paper:
        opt = torch.optim.Adam(student.parameters(), lr=lr)
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=10)
    else:
        opt = torch.optim.SGD(student.parameters(), lr=lr, momentum=0.9, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.steps * a.epochs)

    images, labels = test_split(meta.get("dataset", "fashion-mnist"), a.data, c, s)
    images = (images - mean.view(1, -1, 1, 1)) / std.view(1, -1, 1, 1)

    def evaluate():
        """Accuracy and mean cross-entropy on the test split, the student's BN on current statistics (buffers untouched)."""
        track_running_stats(student, False)
        correct, loss_sum = 0, 0.0
        with torch.no_grad():
            for i in range(0, len(labels), eval_batch):
                out = student(images[i:i + eval_batch])
                correct += (out.argmax(1) == labels[i:i + eval_batch]).sum().item()
                loss_sum += F.cross_entropy(out, labels[i:i + eval_batch], reduction="sum").item()
        track_running_stats(student, True)
        return correct / len(labels), loss_sum / len(labels)

    start, losses, accuracies = time.time(), [], []
    for _ in range(a.epochs):
        for _ in range(a.steps):
            losses.append(step(teacher, student, opt, batch, c, s, temperature))
            if not paper:
                sched.step()
        accuracy, test_loss = evaluate()
        accuracies.append(accuracy)
        if paper:
            plateau.step(test_loss)
    seconds = time.time() - start
    k = max(1, len(losses) // 10)
    print(json.dumps({"student": f"{a.student} x{a.width}", "recipe": a.recipe, "teacher_bn": a.teacher_bn, "loss": a.loss, "epochs": a.epochs,
                      "steps": a.steps, "batch_size": batch, "acc_cs": accuracies[-1], "acc_cs_per_epoch": accuracies,
                      "kd_loss_first": sum(losses[:k]) / k, "kd_loss_last": sum(losses[-k:]) / k, "seconds": round(seconds, 1)}))


def step(teacher, student, opt, batch, c, s, temperature):
    """One distillation step on a fresh N(0, 1) batch; returns the loss."""
    x = torch.randn(batch, c, s, s)
    with torch.no_grad():
        t_logits = teacher(x)
    if temperature is None:
        loss = -(F.softmax(t_logits, dim=1) * F.log_softmax(student(x), dim=1)).sum(1).mean()
    else:
        loss = F.kl_div(F.log_softmax(student(x) / temperature, dim=1), F.softmax(t_logits / temperature, dim=1),
                        reduction="batchmean") * temperature * temperature
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.item()


if __name__ == "__main__":
    main()
