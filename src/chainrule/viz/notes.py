"""The notes' figures: activations and their derivatives, cross-entropy versus MSE, initialisation, schedules.

Every derivative drawn here is computed by chainrule's own autograd (one backward pass through the
function), not written out by hand: the figure is also a check of the library.
"""

from __future__ import annotations

import numpy as np

from ._mpl import check_png_path, finish, new_figure


def activation_curves(x: np.ndarray | None = None) -> dict:
    """{name: (x, f(x), f'(x))} for sigmoid, tanh, ReLU, leaky ReLU, ELU, GELU and softplus, f' by autograd.

    >>> curves = activation_curves(np.array([0.0, 1.0]))
    >>> [round(float(v), 4) for v in curves["sigmoid"][2]]
    [0.25, 0.1966]
    """
    from .. import functional as F
    from ..autograd.tensor import Tensor

    x = np.linspace(-4, 4, 801) if x is None else np.asarray(x, dtype=np.float64)
    fns = {"sigmoid": F.sigmoid, "tanh": F.tanh, "ReLU": F.relu,
           "leaky ReLU (0.1)": lambda t: F.leaky_relu(t, 0.1), "ELU": F.elu, "GELU": F.gelu, "softplus": F.softplus}
    out = {}
    for name, fn in fns.items():
        t = Tensor(x.astype(np.float64), requires_grad=True)
        y = fn(t)
        y.sum().backward()  # d(sum_i f(x_i))/dx_j = f'(x_j): the elementwise derivative
        out[name] = (x, y.numpy().copy(), t.grad.copy())
    return out


def plot_activations(path=None):
    """Activations (left) and their derivatives (right), the derivatives computed by autograd."""
    path = check_png_path(path) if path is not None else None
    fig, ax = new_figure(1, 2, figsize=(11, 4.4))
    left, right = ax[0]
    for name, (x, y, dy) in activation_curves().items():
        (line,) = left.plot(x, y, label=name, lw=1.6)
        right.plot(x, dy, label=name, lw=1.6, color=line.get_color())
    left.set(title="activation f(x)", xlabel="x", ylim=(-1.5, 4))
    right.set(title="derivative f'(x) (by chainrule's autograd)", xlabel="x", ylim=(-0.15, 1.25))
    for a in (left, right):
        a.axhline(0, color="0.6", lw=0.7)
        a.axvline(0, color="0.6", lw=0.7)
        a.grid(alpha=0.3)
    left.legend(loc="upper left", fontsize=8)
    right.annotate("sigmoid' <= 0.25: gradients shrink\nat every sigmoid layer", xy=(0, 0.25), xytext=(-3.9, 0.55),
                   fontsize=8, arrowprops={"arrowstyle": "->", "color": "0.4"})
    return finish(fig, path)


def loss_curves(p: np.ndarray | None = None) -> dict:
    """Losses of a sigmoid output p = sigmoid(z) for the target y = 1, and their gradients dL/dz, by autograd.

    Returns {'p', 'ce', 'mse', 'ce_grad', 'mse_grad'}: CE = -log p has dL/dz = p - 1, which stays large
    when the prediction is confidently wrong; MSE = (1 - p)^2 has dL/dz = -2 (1 - p) p (1 - p), which
    vanishes there (the sigmoid saturates), so a wrong network learns slowly under MSE.

    >>> c = loss_curves(np.array([0.504, 0.006]))
    >>> np.round(c["ce"], 3).tolist()
    [0.685, 5.116]
    """
    from .. import functional as F
    from ..autograd.tensor import Tensor

    p = np.linspace(0.002, 0.998, 499) if p is None else np.asarray(p, dtype=np.float64)
    target = np.ones_like(p)
    out = {"p": p}
    for name in ("ce", "mse"):
        z = Tensor(np.log(p) - np.log1p(-p), requires_grad=True)  # the logit of p
        prob = F.sigmoid(z)
        if name == "ce":
            loss = F.binary_cross_entropy(prob, target, reduction="none")
        else:
            loss = F.mse_loss(prob, target, reduction="none")
        loss.sum().backward()
        out[name], out[name + "_grad"] = loss.numpy().copy(), z.grad.copy()
    return out


def plot_losses(path=None):
    """Cross-entropy versus MSE for the target y = 1 as the predicted probability p goes from 0 to 1."""
    path = check_png_path(path) if path is not None else None
    c = loss_curves()
    fig, ax = new_figure(1, 2, figsize=(11, 4.4))
    left, right = ax[0]
    left.plot(c["p"], c["ce"], label="cross-entropy  -log p", lw=1.8)
    left.plot(c["p"], c["mse"], label="squared error  (1 - p)^2", lw=1.8)
    for q in (0.504, 0.006):
        v = -np.log(q)
        left.plot([q], [v], "o", color="C0")
        left.annotate(f"-log({q}) = {v:.3f}", xy=(q, v), xytext=(q + 0.08, v + 0.25), fontsize=8)
    left.set(title="loss for the true class (y = 1)", xlabel="predicted probability p", ylabel="loss", ylim=(0, 6))
    right.plot(c["p"], np.abs(c["ce_grad"]), label="cross-entropy: |p - 1|", lw=1.8)
    right.plot(c["p"], np.abs(c["mse_grad"]), label="squared error: |2 (p - 1) p (1 - p)|", lw=1.8)
    right.set(title="gradient at the logit z (p = sigmoid z), by autograd", xlabel="predicted probability p",
              ylabel="|dL/dz|")
    right.annotate("confidently wrong: MSE's\ngradient vanishes", xy=(0.02, 0.04), xytext=(0.25, 0.55), fontsize=8,
                   arrowprops={"arrowstyle": "->", "color": "0.4"})
    for a in (left, right):
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    return finish(fig, path)


def init_statistics(n_in: int = 784, n_out: int = 256, n: int = 1000, seed: int = 0) -> dict:
    """Pre-activations z = x W^T and tanh(z) of a n_in -> n_out layer, for W from N(0, 1), Xavier and He.

    The inputs x are standard normal. Var(z) = n_in Var(w): N(0, 1) gives std(z) ~ sqrt(784) = 28, so tanh
    saturates at +-1 (gradients vanish); Xavier (Var w = 2 / (n_in + n_out)) and He (Var w = 2 / n_in) keep
    z of order 1.

    >>> s = init_statistics(n=200)
    >>> round(float(s["N(0, 1)"][0].std())), round(float(s["Xavier"][0].std()), 1)
    (28, 1.2)
    """
    from ..nn import init
    from ..nn.layers import Linear

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in)).astype(np.float32)
    schemes = {"N(0, 1)": lambda w: init.normal_(w, 0.0, 1.0, generator=rng),
               "Xavier": lambda w: init.xavier_normal_(w, generator=rng),
               "He": lambda w: init.kaiming_normal_(w, nonlinearity="relu", generator=rng)}
    out = {}
    for name, fill in schemes.items():
        layer = Linear(n_in, n_out, bias=False)
        fill(layer.weight)
        z = x @ layer.weight.numpy().T
        out[name] = (z, np.tanh(z))
    return out


def plot_init(path=None):
    """Histograms of a 784 -> 256 layer's pre-activations (top) and tanh outputs (bottom) per initialisation."""
    path = check_png_path(path) if path is not None else None
    stats = init_statistics()
    fig, ax = new_figure(2, 3, figsize=(12, 6.4))
    for j, (name, (z, a)) in enumerate(stats.items()):
        ax[0, j].hist(z.ravel(), bins=80, color=f"C{j}", alpha=0.85)
        ax[0, j].set(title=f"{name}: z = W x, std {z.std():.2f}", xlabel="pre-activation z")
        ax[1, j].hist(a.ravel(), bins=80, range=(-1, 1), color=f"C{j}", alpha=0.85)
        sat = np.mean(np.abs(a) > 0.99)
        ax[1, j].set(title=f"tanh(z): {sat:.0%} saturated (|a| > 0.99)", xlabel="activation tanh(z)")
    for a in ax.ravel():
        a.grid(alpha=0.3)
        a.set_yticks([])
    fig.suptitle("weight initialisation of a 784 -> 256 layer (standard normal inputs)")
    return finish(fig, path)


def schedule_curves(lr: float = 0.1, lr_end: float = 0.001, epochs: int = 100) -> dict:
    """{name: lr per epoch} for LinearDecay, ExponentialDecay, StepLR and CosineAnnealingLR.

    >>> c = schedule_curves(1.0, 0.01, 4)
    >>> np.round(c["exponential decay"], 4).tolist()
    [1.0, 0.3162, 0.1, 0.0316]
    """
    from ..autograd.tensor import Tensor
    from ..optim import SGD
    from ..optim import lr_scheduler as S

    def opt():
        return SGD([Tensor(np.zeros(1), requires_grad=True)], lr=lr)

    scheds = {"linear decay": S.LinearDecay(opt(), lr_end, epochs),
              "exponential decay": S.ExponentialDecay(opt(), lr_end, epochs),
              f"step (every {max(1, epochs // 4)}, x0.5)": S.StepLR(opt(), max(1, epochs // 4), 0.5),
              "cosine annealing": S.CosineAnnealingLR(opt(), epochs, eta_min=lr_end)}
    return {name: S.sample_lr(s, epochs) for name, s in scheds.items()}


def plot_schedules(path=None, lr: float = 0.1, lr_end: float = 0.001, epochs: int = 100):
    """Learning-rate schedules over ``epochs``: linear and exponential decay (the notes' formulas), step, cosine."""
    path = check_png_path(path) if path is not None else None
    curves = schedule_curves(lr, lr_end, epochs)
    fig, ax = new_figure(1, 2, figsize=(11, 4.2))
    for name, v in curves.items():
        ax[0, 0].plot(np.arange(epochs), v, label=name, lw=1.8)
        ax[0, 1].semilogy(np.arange(epochs), v, label=name, lw=1.8)
    ax[0, 0].set(title=f"learning rate, from {lr} to {lr_end}", xlabel="epoch t", ylabel="lr")
    ax[0, 1].set(title="the same, log scale", xlabel="epoch t")
    ax[0, 0].text(0.02, 0.03, "linear: a_t = a_0 - (a_0 - a_N) t / N\nexponential: a_t = a_0 (a_N / a_0)^(t / N)",
                  transform=ax[0, 0].transAxes, fontsize=8, family="monospace")
    for a in ax.ravel():
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
    return finish(fig, path)
