"""Writes the PyTorch parity fixtures under tests/parity/fixtures/ (run: /usr/bin/python3 tests/parity/make_fixtures.py).

PyTorch is the oracle here, never a run-time dependency. Every case draws float32 inputs and
parameters from a seed derived from its name, computes in float64 (so the expected values carry no
float32 rounding of their own), and stores all tensors as F32 (integer ones as I64) in one safetensors
file per case:

  op_*.safetensors     one functional op or layer: its inputs ("x", "weight", "bias", "grad_output", ...),
                       the expected output "out" and gradients "grad.<input>"; BatchNorm cases also hold
                       the layer's state "state.*" and its buffers after the forward "after.*"; optimizer
                       cases a parameter, three gradients and the parameter after three steps.
  model_*.safetensors  one architecture: "input" (batch 8 of N(0, 1) noise), "teacher_logits", the initial
                       PyTorch state_dict under "state." (BatchNorm affine parameters and running buffers
                       randomized so running and current statistics differ), the logits with BatchNorm on
                       running statistics (eval) and on current statistics (train-mode BN, buffers
                       untouched), the KD loss (T = 4) in train mode and every parameter's gradient
                       "grad.*", and for some cases the state after 3 steps of SGD "sgd.*" and of Adam
                       "adam.*" on the batches "steps.input" / "steps.teacher_logits".
  state_dict_layouts.json  the state_dict names and shapes of every architecture at several widths.
"""
import contextlib
import copy
import json
import math
import zlib
from pathlib import Path

import torch
import torch.nn.functional as F

import models
import safetensors_io

OUT = Path(__file__).resolve().parent / "fixtures"
TEMPERATURE = 4.0


def generator(name):
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def randn(g, *shape, std=1.0, mean=0.0):
    return torch.randn(*shape, generator=g, dtype=torch.float32) * std + mean


def uniform(g, *shape, low=-1.0, high=1.0):
    return torch.rand(*shape, generator=g, dtype=torch.float32) * (high - low) + low


def leaf(t):
    """A float64 leaf holding exactly the float32 values stored in the fixture."""
    return t.double().requires_grad_()


def f32(t):
    return t.detach().to(torch.float32)


def save(name, tensors, metadata):
    metadata = dict(metadata, computed="float64, stored as F32", torch=torch.__version__)
    safetensors_io.write(OUT / f"{name}.safetensors", {k: v if v.dtype == torch.int64 else f32(v) for k, v in tensors.items()}, metadata)


def kd_loss(student, teacher, t=TEMPERATURE):
    """Hinton et al. 2015: KLDiv(log_softmax(s/T), softmax(t/T), 'batchmean') * T^2."""
    return F.kl_div(F.log_softmax(student / t, dim=1), F.softmax(teacher / t, dim=1), reduction="batchmean") * t * t


# ---- ops ----------------------------------------------------------------------------------------

CONV_CASES = {
    "conv2d_3x3": dict(n=2, cin=4, cout=6, size=9, k=3, stride=1, padding=1, groups=1, bias=True),
    "conv2d_1x1": dict(n=2, cin=8, cout=5, size=6, k=1, stride=1, padding=0, groups=1, bias=False),
    "conv2d_strided": dict(n=2, cin=3, cout=4, size=10, k=3, stride=2, padding=1, groups=1, bias=False),
    "conv2d_1x1_strided": dict(n=2, cin=4, cout=6, size=9, k=1, stride=2, padding=0, groups=1, bias=False),
    "conv2d_stem_1ch": dict(n=2, cin=1, cout=8, size=16, k=3, stride=1, padding=1, groups=1, bias=False),
    "conv2d_5x5_pad2": dict(n=2, cin=1, cout=6, size=12, k=5, stride=1, padding=2, groups=1, bias=True),
    "conv2d_depthwise": dict(n=2, cin=8, cout=8, size=7, k=3, stride=1, padding=1, groups=8, bias=False),
    "conv2d_depthwise_strided": dict(n=2, cin=6, cout=6, size=8, k=3, stride=2, padding=1, groups=6, bias=False),
    "conv2d_grouped": dict(n=2, cin=6, cout=4, size=7, k=3, stride=1, padding=1, groups=2, bias=True),
}


def conv_case(name, n, cin, cout, size, k, stride, padding, groups, bias):
    g = generator(name)
    x, w = randn(g, n, cin, size, size), randn(g, cout, cin // groups, k, k, std=0.3)
    b = randn(g, cout, std=0.3) if bias else None
    x64, w64 = leaf(x), leaf(w)
    b64 = leaf(b) if bias else None
    y = F.conv2d(x64, w64, b64, stride, padding, 1, groups)
    go = randn(g, *y.shape)
    (y * go.double()).sum().backward()
    tensors = {"x": x, "weight": w, "grad_output": go, "out": y, "grad.x": x64.grad, "grad.weight": w64.grad}
    if bias:
        tensors.update({"bias": b, "grad.bias": b64.grad})
    save(f"op_{name}", tensors, dict(op="conv2d", stride=stride, padding=padding, groups=groups))


BN_CASES = {
    "batchnorm2d_current_train": dict(statistics="current", mode="train", momentum=0.1, shape=(4, 3, 5, 5)),
    "batchnorm2d_current_eval": dict(statistics="current", mode="eval", momentum=0.1, shape=(4, 3, 5, 5)),
    "batchnorm2d_running_train": dict(statistics="running", mode="train", momentum=0.1, shape=(4, 3, 5, 5)),
    "batchnorm2d_running_eval": dict(statistics="running", mode="eval", momentum=0.1, shape=(4, 3, 5, 5)),
    "batchnorm2d_cumulative_train": dict(statistics="current", mode="train", momentum=None, shape=(4, 3, 5, 5)),
    "batchnorm1d_current_train": dict(statistics="current", mode="train", momentum=0.1, shape=(16, 5)),
    "batchnorm1d_running_eval": dict(statistics="running", mode="eval", momentum=0.1, shape=(16, 5)),
}


def batchnorm_case(name, statistics, mode, momentum, shape):
    """BatchNorm as a layer: train/eval mode and the per-layer statistics override, as BatchNorm.cs."""
    g = generator(name)
    c = shape[1]
    x = randn(g, *shape, std=2.0, mean=0.5)
    state = {"weight": uniform(g, c, low=0.5, high=1.5), "bias": randn(g, c, std=0.3),
             "running_mean": randn(g, c, std=0.5), "running_var": uniform(g, c, low=0.5, high=2.0),
             "num_batches_tracked": torch.tensor(5, dtype=torch.int64)}
    w64, b64, x64 = leaf(state["weight"]), leaf(state["bias"]), leaf(x)
    rm, rv = state["running_mean"].double(), state["running_var"].double()
    nbt = state["num_batches_tracked"].clone()
    if statistics == "current" and mode == "train":  # PyTorch's train mode: batch statistics, buffers move
        nbt += 1
        factor = momentum if momentum is not None else 1.0 / nbt.item()
        y = F.batch_norm(x64, rm, rv, w64, b64, training=True, momentum=factor, eps=1e-5)
    elif statistics == "current":  # current statistics in eval mode: buffers untouched
        y = F.batch_norm(x64, None, None, w64, b64, training=True, eps=1e-5)
    else:  # running statistics, in either mode
        y = F.batch_norm(x64, rm, rv, w64, b64, training=False, eps=1e-5)
    go = randn(g, *y.shape)
    (y * go.double()).sum().backward()
    tensors = {"x": x, "grad_output": go, "out": y, "grad.x": x64.grad, "grad.weight": w64.grad, "grad.bias": b64.grad,
               "after.running_mean": rm, "after.running_var": rv, "after.num_batches_tracked": nbt}
    tensors.update({f"state.{k}": v for k, v in state.items()})
    save(f"op_{name}", tensors, dict(op="batch_norm", statistics=statistics, mode=mode,
                                     momentum="none" if momentum is None else momentum))


POOL_CASES = {
    "maxpool2d_2": dict(kind="max", shape=(2, 3, 8, 8), kernel=2, stride=2, padding=0),
    "maxpool2d_3s2p1": dict(kind="max", shape=(2, 3, 9, 9), kernel=3, stride=2, padding=1),
    "avgpool2d_2": dict(kind="avg", shape=(2, 3, 8, 8), kernel=2, stride=2, padding=0),
    "avgpool2d_3s2p1_include_pad": dict(kind="avg", shape=(2, 3, 9, 9), kernel=3, stride=2, padding=1, count_include_pad=True),
    "avgpool2d_3s2p1_exclude_pad": dict(kind="avg", shape=(2, 3, 9, 9), kernel=3, stride=2, padding=1, count_include_pad=False),
    "adaptive_avgpool2d_1x1": dict(kind="adaptive", shape=(2, 3, 5, 5), out=(1, 1)),
    "adaptive_avgpool2d_3x2": dict(kind="adaptive", shape=(2, 3, 7, 5), out=(3, 2)),
}


def pool_case(name, kind, shape, kernel=0, stride=0, padding=0, count_include_pad=True, out=(0, 0)):
    g = generator(name)
    x = randn(g, *shape)
    x64 = leaf(x)
    if kind == "max":
        y = F.max_pool2d(x64, kernel, stride, padding)
    elif kind == "avg":
        y = F.avg_pool2d(x64, kernel, stride, padding, count_include_pad=count_include_pad)
    else:
        y = F.adaptive_avg_pool2d(x64, out)
    go = randn(g, *y.shape)
    (y * go.double()).sum().backward()
    save(f"op_{name}", {"x": x, "grad_output": go, "out": y, "grad.x": x64.grad},
         dict(op="pool2d", kind=kind, kernel=kernel, stride=stride, padding=padding,
              count_include_pad=str(count_include_pad).lower(), out_h=out[0], out_w=out[1]))


def linear_case(name="linear"):
    g = generator(name)
    x, w, b = randn(g, 5, 7), randn(g, 4, 7, std=0.4), randn(g, 4, std=0.4)
    x64, w64, b64 = leaf(x), leaf(w), leaf(b)
    y = F.linear(x64, w64, b64)
    go = randn(g, *y.shape)
    (y * go.double()).sum().backward()
    save(f"op_{name}", {"x": x, "weight": w, "bias": b, "grad_output": go, "out": y,
                        "grad.x": x64.grad, "grad.weight": w64.grad, "grad.bias": b64.grad}, dict(op="linear"))


LOSS_CASES = {
    "cross_entropy": dict(kind="cross_entropy", label_smoothing=0.0),
    "cross_entropy_label_smoothing": dict(kind="cross_entropy", label_smoothing=0.1),
    "kd_loss_t4": dict(kind="kd", temperature=4.0),
    "soft_target_cross_entropy_t1": dict(kind="soft_target_cross_entropy", temperature=1.0),
    "l1_loss": dict(kind="l1"),
    "mse_loss": dict(kind="mse"),
}


def loss_case(name, kind, label_smoothing=0.0, temperature=1.0):
    g = generator(name)
    student = randn(g, 8, 10, std=3.0)
    s64 = leaf(student)
    tensors = {"student": student}
    if kind == "cross_entropy":
        labels = torch.randint(0, 10, (8,), generator=g, dtype=torch.int64)
        loss = F.cross_entropy(s64, labels, label_smoothing=label_smoothing)
        tensors["labels"] = labels
    else:
        target = randn(g, 8, 10, std=3.0)
        t64 = target.double()
        tensors["target"] = target
        if kind == "kd":
            loss = kd_loss(s64, t64, temperature)
        elif kind == "soft_target_cross_entropy":  # the Gaussian-noise KD code's loss at T = 1
            loss = -(F.softmax(t64 / temperature, 1) * F.log_softmax(s64 / temperature, 1)).sum(1).mean()
        elif kind == "l1":
            loss = F.l1_loss(s64, t64)
        else:
            loss = F.mse_loss(s64, t64)
    loss.backward()
    tensors.update({"out": loss, "grad.student": s64.grad})
    save(f"op_{name}", tensors, dict(op="loss", kind=kind, label_smoothing=label_smoothing, temperature=temperature))


OPTIMIZER_CASES = {
    "sgd_nesterov": dict(kind="sgd", lr=0.1, momentum=0.9, dampening=0.0, weight_decay=5e-4, nesterov=True),
    "sgd_momentum_dampening": dict(kind="sgd", lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-4, nesterov=False),
    "sgd_plain": dict(kind="sgd", lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False),
    "adam": dict(kind="adam", lr=1e-3, weight_decay=0.0),
    "adam_l2": dict(kind="adam", lr=1e-3, weight_decay=1e-2),
    "adamw": dict(kind="adamw", lr=1e-3, weight_decay=1e-2),
}


def optimizer_case(name, kind, lr, weight_decay, momentum=0.0, dampening=0.0, nesterov=False, steps=3):
    g = generator(name)
    p = randn(g, 4, 6)
    grads = randn(g, steps, 4, 6)
    p64 = leaf(p)
    if kind == "sgd":
        opt = torch.optim.SGD([p64], lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov)
    elif kind == "adam":
        opt = torch.optim.Adam([p64], lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.AdamW([p64], lr=lr, weight_decay=weight_decay)
    for s in range(steps):
        p64.grad = grads[s].double()
        opt.step()
    save(f"op_optim_{name}", {"param": p, "grads": grads, "after": p64},
         dict(op="optimizer", kind=kind, lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
              nesterov=str(nesterov).lower(), steps=steps))


# ---- whole models -------------------------------------------------------------------------------

# Narrow widths keep the fixtures under 10 MB; the optimizer trajectories (two more copies of every
# parameter) are stored for the smaller cases only. The MLP has no Adam trajectory: its Linear biases
# feed BatchNorm, so their true gradient is zero, and Adam, which divides by the gradient's own size,
# moves them by rounding noise (1e-17 in float64, 1e-9 in float32) by up to lr per step.
MODEL_CASES = {
    "resnet18": dict(arch="resnet18", width=0.125, in_channels=3, image_size=16, optimizers=("sgd", "adam")),
    "resnet34": dict(arch="resnet34", width=0.125, in_channels=1, image_size=16, optimizers=()),
    "mobilenetv2": dict(arch="mobilenetv2", width=0.25, in_channels=3, image_size=16, optimizers=()),
    "wrn-16-2": dict(arch="wrn-16-2", width=0.25, in_channels=3, image_size=16, optimizers=("sgd", "adam")),
    "lenet5-half": dict(arch="lenet5-half", width=1.0, in_channels=1, image_size=28, optimizers=("sgd", "adam")),
    "mlp": dict(arch="mlp", width=1.0, in_channels=1, image_size=4, optimizers=("sgd",)),
}
CLASSES, BATCH, STEPS = 10, 8, 3
OPTIMIZERS = {"sgd": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4),
              "adam": lambda ps: torch.optim.Adam(ps, lr=1e-3)}
RELU_MARGIN, NOISE_DRAWS = 1e-5, 40


def randomize_batchnorm(model, g):
    """Non-trivial affine parameters and running statistics, so running and current statistics differ."""
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.weight.data.copy_(uniform(g, c, low=0.5, high=1.5))
            m.bias.data.copy_(randn(g, c, std=0.2))
            m.running_mean.copy_(randn(g, c, std=0.2))
            m.running_var.copy_(uniform(g, c, low=0.5, high=2.0))
            m.num_batches_tracked.fill_(7)


@contextlib.contextmanager
def relu_margin():
    """Tracks the smallest |x| / rms(x) over the nonzero inputs of every ReLU run inside the block.

    The gradient is discontinuous at a ReLU's kink: an input within float32 rounding of zero (about
    1e-6 relative after a few dozen layers) may land on the other side in a float32 run, and that one
    element then moves the gradients by 1e-3. Such a fixture would compare rounding, not code.
    """
    seen = [math.inf]
    relu = F.relu

    def checked(x, inplace=False):
        with torch.no_grad():
            nonzero = x[x != 0].abs()
            if nonzero.numel():
                seen[0] = min(seen[0], (nonzero.min() / x.pow(2).mean().sqrt()).item())
        return relu(x, inplace=inplace)

    F.relu = checked  # the reference models and nn.ReLU call torch.nn.functional.relu
    try:
        yield seen
    finally:
        F.relu = relu


def noise_batches(name, model64, in_channels, image_size):
    """Inputs and teacher logits for STEPS steps. The gradients are compared at 1e-4, so the batch is
    chosen, among up to NOISE_DRAWS draws, to keep every ReLU input of the gradient pass farthest from
    its kink; the first draw reaching RELU_MARGIN is taken. (The optimizer trajectories are compared
    relative to the parameters, where one flipped kink is diluted by the learning rate.)"""
    best = None
    for draw in range(NOISE_DRAWS):
        g = generator(f"{name}/data{draw}")
        inputs = randn(g, STEPS, BATCH, in_channels, image_size, image_size)
        teachers = randn(g, STEPS, BATCH, CLASSES, std=3.0)
        with torch.no_grad(), relu_margin() as margin:
            copy.deepcopy(model64).train()(inputs[0].double())
        if best is None or margin[0] > best[0]:
            best = (margin[0], draw, inputs, teachers)
        if margin[0] >= RELU_MARGIN:
            break
    return best


def train_steps(model64, make_optimizer, inputs, teachers):
    model = copy.deepcopy(model64).train()
    opt = make_optimizer(model.parameters())
    for x, t in zip(inputs, teachers):
        opt.zero_grad()
        kd_loss(model(x.double()), t.double()).backward()
        opt.step()
    return model.state_dict()


def model_case(name, arch, width, in_channels, image_size, optimizers):
    torch.manual_seed(zlib.crc32(name.encode()))  # the modules' default initialization
    model = models.create(arch, width, in_channels, CLASSES, image_size)
    randomize_batchnorm(model, generator(name))
    state = {k: v.clone() for k, v in model.state_dict().items()}
    model64 = copy.deepcopy(model).double()
    margin, draw, inputs, teachers = noise_batches(name, model64, in_channels, image_size)
    x, t = inputs[0].double(), teachers[0].double()

    with torch.no_grad():
        logits_running = copy.deepcopy(model64).eval()(x)
        logits_current = copy.deepcopy(model64).train()(x)  # a copy: its running buffers move, ours must not
    trained = copy.deepcopy(model64).train()
    loss = kd_loss(trained(x), t)
    loss.backward()

    tensors = {"input": inputs[0], "teacher_logits": teachers[0], "steps.input": inputs, "steps.teacher_logits": teachers}
    tensors.update({f"state.{k}": v for k, v in state.items()})
    tensors.update({"expected.logits_running": logits_running, "expected.logits_current": logits_current, "expected.kd_loss": loss})
    tensors.update({f"grad.{k}": p.grad for k, p in trained.named_parameters()})
    for optimizer in optimizers:
        after = train_steps(model64, OPTIMIZERS[optimizer], inputs, teachers)
        tensors.update({f"{optimizer}.{k}": v for k, v in after.items()})
    save(f"model_{name}", tensors, dict(arch=arch, width=width, in_channels=in_channels, classes=CLASSES, image_size=image_size,
                                        temperature=TEMPERATURE, steps=STEPS, optimizers=",".join(optimizers),
                                        sgd="lr=0.1,momentum=0.9,nesterov=True,weight_decay=0.0005", adam="lr=0.001",
                                        relu_margin=f"{margin:.3g}", noise_draw=draw))
    return f"{sum(p.numel() for p in model.parameters()):,} parameters, noise draw {draw}, ReLU margin {margin:.2g}"


# (arch, width, in_channels, classes, image_size); width 0.0390625 puts 64 * w exactly on 2.5 (round half to even).
LAYOUTS = [
    ("resnet18", 1.0, 3, 10, 32), ("resnet18", 0.25, 1, 10, 28), ("resnet18", 0.0390625, 3, 10, 32), ("resnet34", 0.125, 1, 10, 28),
    ("resnet50", 0.125, 3, 100, 32), ("resnet101", 0.0625, 3, 10, 32), ("wrn-16-2", 1.0, 3, 10, 32), ("wrn-40-2", 0.5, 3, 10, 32),
    ("wrn-16-8", 0.3, 1, 10, 28), ("mobilenetv2", 1.0, 3, 10, 32), ("mobilenetv2", 0.25, 1, 10, 28), ("mobilenetv2", 1.5, 3, 10, 32),
    ("lenet5", 1.0, 1, 10, 28), ("lenet5", 1.0, 3, 10, 32), ("lenet5-half", 1.0, 1, 10, 28), ("mlp", 1.0, 1, 10, 28), ("mlp", 0.5, 2, 2, 1),
]


def layouts():
    result = []
    for arch, width, in_channels, classes, image_size in LAYOUTS:
        model = models.create(arch, width, in_channels, classes, image_size)
        result.append(dict(arch=arch, width=width, in_channels=in_channels, classes=classes, image_size=image_size,
                           parameters=models.parameter_count(model),
                           state_dict=[[k, list(v.shape)] for k, v in model.state_dict().items()]))
    (OUT / "state_dict_layouts.json").write_text(json.dumps(result, indent=0) + "\n")


def main():
    torch.set_num_threads(2)
    OUT.mkdir(parents=True, exist_ok=True)
    for path in OUT.glob("*.safetensors"):
        path.unlink()
    for name, case in CONV_CASES.items():
        conv_case(name, **case)
    for name, case in BN_CASES.items():
        batchnorm_case(name, **case)
    for name, case in POOL_CASES.items():
        pool_case(name, **case)
    linear_case()
    for name, case in LOSS_CASES.items():
        loss_case(name, **case)
    for name, case in OPTIMIZER_CASES.items():
        optimizer_case(name, **case)
    for name, case in MODEL_CASES.items():
        print(f"model_{name}: {model_case(name, **case)}")
    layouts()
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"{len(list(OUT.iterdir()))} files, {total / 1e6:.2f} MB in {OUT}")


if __name__ == "__main__":
    main()
