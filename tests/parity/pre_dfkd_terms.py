"""Prints the PyTorch values pinned in tests/NoiseKD.Tests/Ops/PreDfkdTermTests.cs (run: /usr/bin/python3 tests/parity/pre_dfkd_terms.py;
Debian's python3-torch 1.13). The terms are written here from their definitions in the public PRE-DFKD code (utils/aux.py
JS_divergence at T = 3 with clamps and nn.KLDivLoss's default 'mean' reduction; distillation.py's latent prior penalty)."""
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)


def clamped_js(student, teacher, temperature=3.0):
    p = F.softmax(teacher / temperature, dim=1)
    q = F.softmax(student / temperature, dim=1)
    m = torch.clamp(0.5 * (p + q), 0.01, 0.99)
    p, q = torch.clamp(p, 0.01, 0.99), torch.clamp(q, 0.01, 0.99)
    return torch.clamp(0.5 * nn.KLDivLoss()(torch.log(p), m) + 0.5 * nn.KLDivLoss()(torch.log(q), m), 0.0, 1.0)


def prior_penalty(z):
    return F.mse_loss(torch.var(z, dim=0), torch.ones(z.shape[1])) + F.mse_loss(torch.mean(z, dim=0), torch.zeros(z.shape[1]))


def show(name, value, leaf):
    value.backward()
    print(name, repr(value.item()), leaf.grad.flatten().tolist())


for student, teacher in [([[5., -5, 0], [1, 2, 3]], [[-5., 5, 0], [3, 2, 1]]),
                         ([[30., -30, 0, 4], [1, 2, 3, -20]], [[-30., 30, 0, 1], [3, 2, 1, 25]])]:
    s = torch.tensor(student, requires_grad=True)
    show("js", clamped_js(s, torch.tensor(teacher)), s)
z = torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75], [-1.0, 0.0, 1.0]], requires_grad=True)
show("prior", prior_penalty(z), z)
