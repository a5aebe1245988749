"""Rows for the losses (every reduction) and the weight penalties."""

import numpy as np

import chainrule.functional as F

from . import Arg, OpSpec

A = Arg
REDUCTIONS = ("mean", "sum", "none")
LABELS = np.array([2, 0, 4, 1, 4, 3])  # 6 rows, 5 classes
LABELS_2D = np.array([[0, 2, 1], [2, 2, 0]])  # (N=2, d=3), 3 classes


def _reduce(l, reduction):
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](l)


def _probs(shape, axis=1):
    def make(rng):
        e = rng.uniform(0.1, 1.0, size=shape)
        return e / e.sum(axis=axis, keepdims=True)

    return make


def _ce_ref(z, y, eps=0.0, reduction="mean"):
    """-sum_j q_j log softmax(z)_j with q the (smoothed) target, classes on axis 1 (axis 0 for 1-D z)."""
    ax = 1 if z.ndim > 1 else 0
    n_classes = z.shape[ax]
    s = z - z.max(axis=ax, keepdims=True)
    logp = s - np.log(np.exp(s).sum(axis=ax, keepdims=True))
    q = np.moveaxis(np.eye(n_classes)[y], -1, ax) if y.dtype.kind == "i" else y
    q = (1 - eps) * q + eps / n_classes
    return _reduce(-(q * logp).sum(axis=ax), reduction)


def _nll_ref(x, y, reduction="mean"):
    ax = 1 if x.ndim > 1 else 0
    return _reduce(-np.take_along_axis(x, np.expand_dims(y, ax), ax).squeeze(ax), reduction)


def _huber_ref(p, t, delta=1.0, reduction="mean"):
    d = np.abs(p - t)
    return _reduce(np.where(d < delta, 0.5 * d * d, delta * (d - 0.5 * delta)), reduction)


def _bce_ref(p, t, reduction="mean"):
    return _reduce(-(t * np.log(p) + (1 - t) * np.log(1 - p)), reduction)


def _bcel_ref(z, t, reduction="mean"):
    return _reduce(np.logaddexp(0, z) - z * t, reduction)


def _multi_margin_ref(s, y, reduction="mean"):
    n, c = s.shape
    m = np.maximum(0, 1 - s[np.arange(n), y][:, None] + s)
    m[np.arange(n), y] = 0
    return _reduce(m.sum(axis=1) / c, reduction)


def _rows(r):
    """The rows of every loss for one reduction ``r``."""
    tf = lambda t: t.nn.functional  # noqa: E731
    pos = dict(low=0.05, high=0.95)
    return [
        OpSpec(f"mse_{r}", lambda p, t: F.mse_loss(p, t, reduction=r), [A((4, 3)), A((4, 3), grad=False)],
               lambda p, t: _reduce((p - t) ** 2, r), lambda t, p, y: tf(t).mse_loss(p, y, reduction=r)),
        OpSpec(f"l1_{r}", lambda p, t: F.l1_loss(p, t, reduction=r), [A((4, 3)), A((4, 3), grad=False)],
               lambda p, t: _reduce(np.abs(p - t), r), lambda t, p, y: tf(t).l1_loss(p, y, reduction=r)),
        OpSpec(f"huber_{r}", lambda p, t: F.huber_loss(p, t, reduction=r),
               [A((4, 3), low=-3, high=3, avoid=(-1.0, 1.0)), A(value=np.zeros((4, 3)))],
               lambda p, t: _huber_ref(p, t, 1.0, r), lambda t, p, y: tf(t).huber_loss(p, y, reduction=r)),
        OpSpec(f"bce_{r}", lambda p, t: F.binary_cross_entropy(p, t, reduction=r),
               [A((5, 2), **pos), A((5, 2), low=0, high=1, grad=False)],
               lambda p, t: _bce_ref(p, t, r), lambda t, p, y: tf(t).binary_cross_entropy(p, y, reduction=r)),
        OpSpec(f"bce_logits_{r}", lambda z, t: F.binary_cross_entropy_with_logits(z, t, reduction=r),
               [A((5, 2), low=-4, high=4), A((5, 2), low=0, high=1, grad=False)],
               lambda z, t: _bcel_ref(z, t, r),
               lambda t, z, y: tf(t).binary_cross_entropy_with_logits(z, y, reduction=r)),
        OpSpec(f"cross_entropy_{r}", lambda z: F.cross_entropy(z, LABELS, reduction=r), [A((6, 5), low=-3, high=3)],
               lambda z: _ce_ref(z, LABELS, 0.0, r),
               lambda t, z: tf(t).cross_entropy(z, t.tensor(LABELS), reduction=r)),
        OpSpec(f"cross_entropy_smooth_{r}", lambda z: F.cross_entropy(z, LABELS, label_smoothing=0.1, reduction=r),
               [A((6, 5), low=-3, high=3)], lambda z: _ce_ref(z, LABELS, 0.1, r),
               lambda t, z: tf(t).cross_entropy(z, t.tensor(LABELS), label_smoothing=0.1, reduction=r)),
        OpSpec(f"cross_entropy_probs_{r}", lambda z, q: F.cross_entropy(z, q, reduction=r),
               [A((4, 3), low=-3, high=3), A(make=_probs((4, 3)), grad=False)], lambda z, q: _ce_ref(z, q, 0.0, r),
               lambda t, z, q: tf(t).cross_entropy(z, q, reduction=r)),
        OpSpec(f"cross_entropy_2d_{r}", lambda z: F.cross_entropy(z, LABELS_2D, reduction=r),
               [A((2, 3, 3), low=-3, high=3)], lambda z: _ce_ref(z, LABELS_2D, 0.0, r),
               lambda t, z: tf(t).cross_entropy(z, t.tensor(LABELS_2D), reduction=r)),
        OpSpec(f"nll_{r}", lambda x: F.nll_loss(x, LABELS, reduction=r), [A((6, 5), low=-3, high=0)],
               lambda x: _nll_ref(x, LABELS, r), lambda t, x: tf(t).nll_loss(x, t.tensor(LABELS), reduction=r)),
        OpSpec(f"hinge_binary_{r}", lambda s, y: F.hinge_loss(s, y, reduction=r),
               [A((6,), low=-2.5, high=2.5, avoid=(-1.0, 1.0)), A(value=np.array([1.0, -1, -1, 1, 1, -1]))],
               lambda s, y: _reduce(np.maximum(0, 1 - y * s), r),
               lambda t, s, y: _reduce_torch(t.clamp(1 - y * s, min=0), r)),
        OpSpec(f"hinge_multi_{r}", lambda s: F.hinge_loss(s, LABELS, reduction=r), [A((6, 5), low=-1, high=1)],
               lambda s: _multi_margin_ref(s, LABELS, r),
               lambda t, s: tf(t).multi_margin_loss(s, t.tensor(LABELS), reduction=r)),
    ]


def _reduce_torch(l, reduction):
    return {"mean": lambda v: v.mean(), "sum": lambda v: v.sum(), "none": lambda v: v}[reduction](l)


SPECS = [row for r in REDUCTIONS for row in _rows(r)] + [
    # targets that require a gradient get one
    OpSpec("mse_target_grad", F.mse_loss, [A((3, 4)), A((3, 4))], lambda p, t: np.mean((p - t) ** 2),
           lambda t, p, y: t.nn.functional.mse_loss(p, y)),
    OpSpec("l1_target_grad", F.l1_loss, [A((3, 4)), A((3, 4))], lambda p, t: np.mean(np.abs(p - t)),
           lambda t, p, y: t.nn.functional.l1_loss(p, y)),
    OpSpec("huber_delta_target_grad", lambda p, t: F.huber_loss(p, t, delta=0.5), [A((3, 4)), A((3, 4))],
           lambda p, t: _huber_ref(p, t, 0.5), lambda t, p, y: t.nn.functional.huber_loss(p, y, delta=0.5)),
    OpSpec("bce_target_grad", F.binary_cross_entropy, [A((3, 4), low=0.05, high=0.95), A((3, 4), low=0, high=1)],
           _bce_ref, lambda t, p, y: t.nn.functional.binary_cross_entropy(p, y)),
    OpSpec("bce_logits_target_grad", F.binary_cross_entropy_with_logits, [A((3, 4)), A((3, 4), low=0, high=1)],
           _bcel_ref, lambda t, z, y: t.nn.functional.binary_cross_entropy_with_logits(z, y)),
    # cross-entropy variants
    OpSpec("cross_entropy_probs_target_grad", F.cross_entropy,
           [A((4, 3), low=-3, high=3), A(make=_probs((4, 3)))], _ce_ref,
           lambda t, z, q: t.nn.functional.cross_entropy(z, q)),
    OpSpec("cross_entropy_probs_smooth", lambda z, q: F.cross_entropy(z, q, label_smoothing=0.2),
           [A((4, 3), low=-3, high=3), A(make=_probs((4, 3)))], lambda z, q: _ce_ref(z, q, 0.2),
           lambda t, z, q: t.nn.functional.cross_entropy(z, q, label_smoothing=0.2)),
    OpSpec("cross_entropy_probs_3d", F.cross_entropy,
           [A((2, 4, 3), low=-3, high=3), A(make=_probs((2, 4, 3)), grad=False)], _ce_ref,
           lambda t, z, q: t.nn.functional.cross_entropy(z, q)),
    OpSpec("cross_entropy_2d_smooth", lambda z: F.cross_entropy(z, LABELS_2D, label_smoothing=0.3),
           [A((2, 3, 3), low=-3, high=3)], lambda z: _ce_ref(z, LABELS_2D, 0.3),
           lambda t, z: t.nn.functional.cross_entropy(z, t.tensor(LABELS_2D), label_smoothing=0.3)),
    OpSpec("cross_entropy_unbatched", lambda z: F.cross_entropy(z, np.array(3)), [A((5,), low=-3, high=3)],
           lambda z: _ce_ref(z, np.array(3)), lambda t, z: t.nn.functional.cross_entropy(z, t.tensor(3))),
    OpSpec("nll_2d_none", lambda x: F.nll_loss(x, LABELS_2D, reduction="none"), [A((2, 3, 3), low=-3, high=0)],
           lambda x: _nll_ref(x, LABELS_2D, "none"),
           lambda t, x: t.nn.functional.nll_loss(x, t.tensor(LABELS_2D), reduction="none")),
    OpSpec("nll_of_log_softmax", lambda z: F.nll_loss(F.log_softmax(z, axis=1), LABELS), [A((6, 5))],
           lambda z: _ce_ref(z, LABELS), lambda t, z: t.nn.functional.cross_entropy(z, t.tensor(LABELS))),
    # penalties
    OpSpec("l1_penalty", lambda a, b: F.l1_penalty([a, b]), [A((3, 4), avoid=(0.0,)), A((4,), avoid=(0.0,))],
           lambda a, b: np.abs(a).sum() + np.abs(b).sum(), lambda t, a, b: a.abs().sum() + b.abs().sum()),
    OpSpec("l2_penalty", lambda a, b: F.l2_penalty([a, b]), [A((3, 4)), A((4,))],
           lambda a, b: (a**2).sum() + (b**2).sum(), lambda t, a, b: (a**2).sum() + (b**2).sum()),
]


# ------------------------------------------- PyTorch's options: class weights, ignore_index, pos_weight
W5 = np.array([0.5, 2.0, 1.0, 0.2, 1.5])  # per-class weights for the 5-class rows
W3 = np.array([1.5, 0.3, 1.0])
LABELS_IGN = np.array([2, -100, 4, 1, 4, -100])  # 6 rows, 5 classes, two ignored (PyTorch's default -100)
LABELS_2D_IGN = np.array([[0, 2, 1], [2, 1, 0]])  # ignore_index=1 inside the class range


def _ce_w_ref(z, y, w, eps=0.0, ignore=-100, reduction="mean"):
    """PyTorch's weighted, smoothed cross-entropy with ignored labels, classes on axis 1."""
    s = z - z.max(axis=1, keepdims=True)
    logp = np.moveaxis(s - np.log(np.exp(s).sum(axis=1, keepdims=True)), 1, -1)  # classes last
    valid = y != ignore
    ys = np.where(valid, y, 0)
    wy = np.where(valid, w[ys], 0)
    nll = -np.take_along_axis(logp, ys[..., None], -1)[..., 0] * wy
    smooth = -(logp * w).sum(-1)
    l = np.where(valid, (1 - eps) * nll + eps / z.shape[1] * smooth, 0)
    return l.sum() / wy.sum() if reduction == "mean" else _reduce(l, reduction)


def _bcel_w_ref(z, t, w, pw, reduction="mean"):
    logsig, log1msig = -np.logaddexp(0, -z), -np.logaddexp(0, z)
    return _reduce(-w * (pw * t * logsig + (1 - t) * log1msig), reduction)


def _option_rows(r):
    tf = lambda t: t.nn.functional  # noqa: E731
    wt = lambda t, w: t.tensor(w)  # noqa: E731
    return [
        OpSpec(f"cross_entropy_weight_ignore_smooth_{r}",
               lambda z: F.cross_entropy(z, LABELS_IGN, 0.1, r, weight=W5), [A((6, 5), low=-3, high=3)],
               lambda z: _ce_w_ref(z, LABELS_IGN, W5, 0.1, -100, r),
               lambda t, z: tf(t).cross_entropy(z, t.tensor(LABELS_IGN), weight=wt(t, W5), label_smoothing=0.1,
                                                reduction=r)),
        OpSpec(f"cross_entropy_2d_weight_ignore_smooth_{r}",
               lambda z: F.cross_entropy(z, LABELS_2D_IGN, 0.2, r, weight=W3, ignore_index=1),
               [A((2, 3, 3), low=-3, high=3)], lambda z: _ce_w_ref(z, LABELS_2D_IGN, W3, 0.2, 1, r),
               lambda t, z: tf(t).cross_entropy(z, t.tensor(LABELS_2D_IGN), weight=wt(t, W3), ignore_index=1,
                                                label_smoothing=0.2, reduction=r)),
        OpSpec(f"cross_entropy_probs_weight_{r}", lambda z, q: F.cross_entropy(z, q, 0.1, r, weight=W3),
               [A((4, 3), low=-3, high=3), A(make=_probs((4, 3)))],
               lambda z, q: _reduce(-(((0.9 * q + 0.1 / 3) * W3) * (z - np.log(np.exp(z).sum(1, keepdims=True))))
                                    .sum(1), r),
               lambda t, z, q: tf(t).cross_entropy(z, q, weight=wt(t, W3), label_smoothing=0.1, reduction=r)),
        OpSpec(f"nll_weight_ignore_{r}", lambda x: F.nll_loss(x, LABELS_IGN, r, weight=W5),
               [A((6, 5), low=-3, high=0)],
               lambda x: _nll_w_ref(x, LABELS_IGN, W5, -100, r),
               lambda t, x: tf(t).nll_loss(x, t.tensor(LABELS_IGN), weight=wt(t, W5), reduction=r)),
        OpSpec(f"nll_2d_weight_ignore_{r}", lambda x: F.nll_loss(x, LABELS_2D_IGN, r, weight=W3, ignore_index=1),
               [A((2, 3, 3), low=-3, high=0)], lambda x: _nll_w_ref(x, LABELS_2D_IGN, W3, 1, r),
               lambda t, x: tf(t).nll_loss(x, t.tensor(LABELS_2D_IGN), weight=wt(t, W3), ignore_index=1,
                                           reduction=r)),
        OpSpec(f"bce_logits_weight_pos_weight_{r}",
               lambda z, t: F.binary_cross_entropy_with_logits(z, t, r, weight=W_ROWS, pos_weight=W3),
               [A((4, 3), low=-4, high=4), A((4, 3), low=0, high=1)],
               lambda z, t: _bcel_w_ref(z, t, W_ROWS, W3, r),
               lambda t, z, y: tf(t).binary_cross_entropy_with_logits(z, y, weight=wt(t, W_ROWS),
                                                                      pos_weight=wt(t, W3), reduction=r)),
        OpSpec(f"bce_weight_{r}", lambda p, t: F.binary_cross_entropy(p, t, r, weight=W3),
               [A((4, 3), low=0.05, high=0.95), A((4, 3), low=0, high=1)],
               lambda p, t: _reduce(-W3 * (t * np.log(p) + (1 - t) * np.log(1 - p)), r),
               lambda t, p, y: tf(t).binary_cross_entropy(p, y, weight=wt(t, W3), reduction=r)),
    ]


W_ROWS = np.array([[1.0], [0.5], [2.0], [0.0]])  # an elementwise weight broadcasting over (4, 3)


def _nll_w_ref(x, y, w, ignore=-100, reduction="mean"):
    xl = np.moveaxis(x, 1, -1)
    valid = y != ignore
    ys = np.where(valid, y, 0)
    wy = np.where(valid, w[ys], 0)
    l = -np.take_along_axis(xl, ys[..., None], -1)[..., 0] * wy
    return l.sum() / wy.sum() if reduction == "mean" else _reduce(l, reduction)


SPECS += [row for r in REDUCTIONS for row in _option_rows(r)] + [
    OpSpec("bce_logits_pos_weight_3d", lambda z, t: F.binary_cross_entropy_with_logits(z, t, pos_weight=W3),
           [A((2, 4, 3), low=-4, high=4), A((2, 4, 3), low=0, high=1, grad=False)],
           lambda z, t: _bcel_w_ref(z, t, 1.0, W3),
           lambda t, z, y: t.nn.functional.binary_cross_entropy_with_logits(z, y, pos_weight=t.tensor(W3))),
    OpSpec("cross_entropy_unbatched_weight", lambda z: F.cross_entropy(z, np.array(3), weight=W5),
           [A((5,), low=-3, high=3)], lambda z: _ce_ref(z, np.array(3)),
           lambda t, z: t.nn.functional.cross_entropy(z, t.tensor(3), weight=t.tensor(W5))),
]
