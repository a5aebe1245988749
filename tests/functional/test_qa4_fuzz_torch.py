"""QA sweep 4: a differential fuzz of random op compositions against PyTorch, in float64 and float32.

Each case draws 3-6 ops (broadcasting binary ops, keepdims / multi-axis / negative-axis reductions, var with
ddof, max/min with ties, advanced and basic indexing with repeats, negative indices and steps, masks, None and
Ellipsis, setitem under no_grad, shape ops, pow with mixed signs, log/sqrt near 0, softmax/log_softmax with
-inf entries, logsumexp, the activations, clip with array bounds), runs it in both libraries and compares the
forward value and the gradient of every input of a random-weighted sum. A torch-side index is the flat-index
gather of the NumPy index (torch has no negative steps), whose gradient is the scatter-add reference.
"""

import numpy as np
import pytest

import chainrule as cr
import chainrule.functional as F
from chainrule.functional.reduce import covers_nothing, normalize_axis

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # torch.var of an empty slice
TF = torch.nn.functional


class Pair:
    def __init__(self, c, t):
        self.c, self.t = c, t


def tdt(dt):
    return torch.float64 if dt == np.float64 else torch.float32


def rand_shape(rng, nd=None):
    nd = rng.integers(0, 4) if nd is None else nd
    return tuple(int(s) for s in rng.integers(1, 5, nd))


def bshape(rng, shape):
    # a shape that broadcasts with `shape`
    s = list(shape)
    s = [1 if rng.random() < 0.3 else n for n in s]
    k = rng.integers(0, len(s) + 1)
    return tuple(s[k:])


class Ctx:
    def __init__(self, rng, dt):
        self.rng, self.dt, self.leaves = rng, dt, []

    def leaf(self, shape, ties=False, pos=False):
        a = self.rng.standard_normal(shape)
        if ties:
            a = np.round(a * 2) / 2
        if pos:
            a = np.abs(a) + 0.2
        a = a.astype(self.dt)
        c = cr.tensor(a.copy(), requires_grad=True)
        t = torch.tensor(a.copy(), requires_grad=True)
        self.leaves.append((c, t))
        return Pair(c, t)

    def const(self, a):
        return Pair(cr.tensor(np.asarray(a, self.dt)), torch.tensor(np.asarray(a, self.dt)))


def axes_arg(rng, nd):
    if nd == 0:
        return None, None
    r = rng.random()
    if r < 0.2:
        return None, None
    if r < 0.6:
        a = int(rng.integers(-nd, nd))
        return a, a
    k = rng.integers(1, nd + 1)
    ax = tuple(int(a) - (nd if rng.random() < 0.5 else 0) for a in rng.choice(nd, k, replace=False))
    return ax, ax


def op_binary(ctx, x):
    rng = ctx.rng
    kind = rng.choice(["add", "sub", "mul", "div", "maximum", "minimum", "pow", "rsub", "rdiv", "where"])
    if rng.random() < 0.3 and x.c.ndim:
        ax, _ = axes_arg(rng, x.c.ndim)
        fn = rng.choice(["sum", "mean", "amax"])
        if fn == "amax" and ax is None:
            ax = -1
        o = Pair(
            getattr(cr, "max" if fn == "amax" else fn)(x.c, axis=ax, keepdims=True),
            getattr(torch, fn)(x.t, dim=ax if ax is not None else tuple(range(x.c.ndim)), keepdim=True),
        )
    else:
        o = ctx.leaf(bshape(rng, x.c.shape), ties=True)
    if rng.random() < 0.5:
        x, o = o, x
    if kind == "add":
        return Pair(x.c + o.c, x.t + o.t)
    if kind == "sub":
        return Pair(x.c - o.c, x.t - o.t)
    if kind == "rsub":
        return Pair(1.5 - o.c, 1.5 - o.t)
    if kind == "mul":
        return Pair(x.c * o.c, x.t * o.t)
    if kind == "div":
        return Pair(x.c / (o.c * o.c + 0.5), x.t / (o.t * o.t + 0.5))
    if kind == "rdiv":
        return Pair(2.0 / (o.c * o.c + 0.5), 2.0 / (o.t * o.t + 0.5))
    if kind == "maximum":
        return Pair(cr.maximum(x.c, o.c), torch.maximum(x.t, o.t))
    if kind == "minimum":
        return Pair(cr.minimum(x.c, o.c), torch.minimum(x.t, o.t))
    if kind == "where":
        cond = x.c.numpy() > 0
        return Pair(cr.where(cond, x.c, o.c), torch.where(torch.tensor(cond), x.t, o.t))
    # pow: mixed-sign base with integer exponent, or positive base with tensor exponent
    if rng.random() < 0.5:
        k = int(rng.choice([-2, -1, 0, 1, 2, 3]))
        if k < 0:
            return Pair((x.c * x.c + 0.5) ** k, (x.t * x.t + 0.5) ** k)
        return Pair(x.c**k, x.t**k)
    return Pair((x.c * x.c + 0.1) ** o.c, (x.t * x.t + 0.1) ** o.t)


def op_reduce(ctx, x):
    rng = ctx.rng
    nd = x.c.ndim
    ax, _ = axes_arg(rng, nd)
    kd = bool(rng.random() < 0.5)
    dims = ax if ax is not None else tuple(range(nd))
    kind = rng.choice(["sum", "mean", "var", "max", "min", "lse"])
    if kind in ("max", "min", "lse", "var", "mean") and covers_nothing(x.c.shape, normalize_axis(ax, nd)):
        return x
    if kind == "sum":
        return Pair(x.c.sum(axis=ax, keepdims=kd), x.t.sum(dim=dims, keepdim=kd) if nd else x.t.sum())
    if kind == "mean":
        return Pair(x.c.mean(axis=ax, keepdims=kd), x.t.mean(dim=dims, keepdim=kd) if nd else x.t.mean())
    if kind == "var":
        if nd == 0:
            return x
        shape = x.c.shape
        n = int(np.prod([shape[a] for a in (ax if isinstance(ax, tuple) else (range(nd) if ax is None else (ax,)))]))
        ddof = int(rng.integers(0, 2)) if n > 1 else 0
        return Pair(x.c.var(axis=ax, keepdims=kd, ddof=ddof), torch.var(x.t, dim=dims, keepdim=kd, correction=ddof))
    if kind in ("max", "min"):
        tf = torch.amax if kind == "max" else torch.amin
        return Pair(getattr(x.c, kind)(axis=ax, keepdims=kd), tf(x.t, dim=dims, keepdim=kd) if nd else x.t * 1)
    if nd == 0:
        return x
    return Pair(F.logsumexp(x.c, axis=ax, keepdims=kd), torch.logsumexp(x.t, dim=dims, keepdim=kd))


def rand_index(rng, shape):
    """A NumPy index and the flat-index array it picks."""
    items = []
    dims = list(shape)
    i = 0
    used_ellipsis = False
    L = int(rng.integers(1, 4))
    if 0 in shape:
        return (slice(None, None, int(rng.choice([1, -1]))),)
    while i < len(dims):
        r = rng.random()
        n = dims[i]
        if r < 0.15:
            items.append(int(rng.integers(-n, n)))
            i += 1
        elif r < 0.45:
            start = rng.choice([None, int(rng.integers(-n, n))])
            stop = rng.choice([None, int(rng.integers(-n - 1, n + 1))])
            step = int(rng.choice([1, 2, -1, -2, 3]))
            items.append(slice(start, stop, step))
            i += 1
        elif r < 0.6:
            items.append(None)
        elif r < 0.75:
            items.append(rng.integers(-n, n, L))
            i += 1
        elif r < 0.85 and not used_ellipsis and i > 0:
            items.append(Ellipsis)
            used_ellipsis = True
            break
        else:
            items.append(slice(None))
            i += 1
    if rng.random() < 0.15 and len(shape) >= 1:
        m = rng.random(shape[0]) < 0.6
        items = [m] + [slice(None)] * 0
    return tuple(items)


def op_index(ctx, x):
    rng = ctx.rng
    if x.c.ndim == 0:
        return x
    idx = rand_index(rng, x.c.shape)
    flat = np.arange(x.c.size).reshape(x.c.shape)[idx]
    c = x.c[idx]
    t = x.t.reshape(-1)[torch.tensor(flat.reshape(-1).copy(), dtype=torch.int64)].reshape(flat.shape)
    return Pair(c, t)


def op_shape(ctx, x):
    rng = ctx.rng
    nd = x.c.ndim
    kind = rng.choice(
        ["T", "transpose", "flatten", "squeeze", "unsqueeze", "broadcast_to", "pad", "concat", "stack", "reshape"]
    )
    if kind == "T" and nd:
        return Pair(x.c.T, x.t.permute(*range(nd - 1, -1, -1)))
    if kind == "transpose" and nd:
        p = [int(v) for v in rng.permutation(nd)]
        return Pair(x.c.transpose(*p), x.t.permute(*p))
    if kind == "flatten" and nd:
        s = int(rng.integers(-nd, nd))
        e = int(rng.integers(s % nd, nd))
        return Pair(x.c.flatten(s, e), torch.flatten(x.t, s, e))
    if kind == "squeeze":
        return Pair(x.c.squeeze(), torch.reshape(x.t, tuple(n for n in x.c.shape if n != 1)))
    if kind == "unsqueeze":
        a = int(rng.integers(-nd - 1, nd + 1))
        return Pair(x.c.unsqueeze(a), x.t.unsqueeze(a))
    if kind == "broadcast_to":
        shp = (int(rng.integers(1, 3)),) + tuple(n if n != 1 else int(rng.integers(1, 3)) for n in x.c.shape)
        return Pair(x.c.broadcast_to(shp), x.t.broadcast_to(shp))
    if kind == "pad" and nd:
        pw = [(int(rng.integers(0, 3)), int(rng.integers(0, 3))) for _ in range(nd)]
        flat = [v for p in reversed(pw) for v in p]
        return Pair(cr.pad(x.c, pw), TF.pad(x.t, flat))
    if kind == "concat" and nd:
        a = int(rng.integers(-nd, nd))
        shp = list(x.c.shape)
        shp[a] = int(rng.integers(0, 3))
        o = ctx.leaf(tuple(shp))
        return Pair(cr.concatenate([x.c, o.c, x.c], axis=a), torch.cat([x.t, o.t, x.t], dim=a))
    if kind == "stack":
        a = int(rng.integers(-nd - 1, nd + 1))
        o = ctx.leaf(x.c.shape)
        return Pair(cr.stack([o.c, x.c], axis=a), torch.stack([o.t, x.t], dim=a))
    if kind == "reshape":
        return Pair(x.c.reshape(-1), x.t.reshape(-1))
    return x


def op_unary(ctx, x):
    rng = ctx.rng
    kind = rng.choice(
        [
            "exp",
            "log",
            "sqrt",
            "tanh",
            "sigmoid",
            "relu",
            "abs",
            "neg",
            "gelu",
            "elu",
            "leaky",
            "softplus",
            "softmax",
            "log_softmax",
            "clip",
            "clip_arr",
            "gelu_tanh",
        ]
    )
    if kind == "exp":
        return Pair(cr.exp(x.c.clip(-20, 20)), torch.exp(x.t.clamp(-20, 20)))
    if kind == "log":
        return Pair(cr.log(x.c.abs() + 1e-3), torch.log(x.t.abs() + 1e-3))
    if kind == "sqrt":
        return Pair(cr.sqrt(x.c * x.c + 1e-4), torch.sqrt(x.t * x.t + 1e-4))
    if kind == "tanh":
        return Pair(x.c.tanh(), x.t.tanh())
    if kind == "sigmoid":
        return Pair(x.c.sigmoid(), x.t.sigmoid())
    if kind == "relu":
        return Pair(x.c.relu(), x.t.relu())
    if kind == "abs":
        return Pair(abs(x.c), x.t.abs())
    if kind == "neg":
        return Pair(-x.c, -x.t)
    if kind == "gelu":
        return Pair(F.gelu(x.c), TF.gelu(x.t))
    if kind == "gelu_tanh":
        return Pair(F.gelu(x.c, approximate="tanh"), TF.gelu(x.t, approximate="tanh"))
    if kind == "elu":
        al = float(rng.choice([1.0, 0.5, 2.0]))
        return Pair(F.elu(x.c, al), TF.elu(x.t, al))
    if kind == "leaky":
        s = float(rng.choice([0.01, 0.2, -0.1]))
        return Pair(F.leaky_relu(x.c, s), TF.leaky_relu(x.t, s))
    if kind == "softplus":
        b = float(rng.choice([1.0, 2.0, 0.5]))
        th = float(rng.choice([20.0, 1.0]))
        return Pair(F.softplus(x.c, b, th), TF.softplus(x.t, b, th))
    if kind in ("softmax", "log_softmax"):
        nd = x.c.ndim
        a = int(rng.integers(-max(nd, 1), max(nd, 1)))
        # put -inf at negative entries sometimes
        if rng.random() < 0.4 and nd:
            m = x.c.numpy() < -0.5
            x = Pair(cr.where(m, -np.inf, x.c), torch.where(torch.tensor(m), -torch.inf, x.t))
        return Pair(getattr(F, kind)(x.c, axis=a), getattr(torch, kind)(x.t, a))
    if kind == "clip":
        return Pair(x.c.clip(-0.5, 0.5), x.t.clamp(-0.5, 0.5))
    lo = np.round(ctx.rng.standard_normal(bshape(rng, x.c.shape)) * 2) / 2
    hi = lo + np.round(np.abs(ctx.rng.standard_normal(lo.shape)) * 2) / 2
    lo, hi = lo.astype(ctx.dt), hi.astype(ctx.dt)
    return Pair(cr.clip(x.c, lo, hi), torch.clamp(x.t, torch.tensor(lo), torch.tensor(hi)))


OPS = [op_binary, op_reduce, op_index, op_shape, op_unary]


def compare(a, b, dt, what):
    a = np.asarray(a)
    b = np.asarray(b)
    if a.shape != b.shape:
        return f"{what}: shape {a.shape} vs {b.shape}"
    if a.dtype != b.dtype:
        return f"{what}: dtype {a.dtype} vs {b.dtype}"
    rtol, atol = (1e-7, 1e-9) if dt == np.float64 else (2e-4, 2e-5)
    scale = np.nanmax(np.abs(np.where(np.isfinite(b), b, 0))) if b.size else 0
    if not np.allclose(a, b, rtol=rtol, atol=atol * max(1, scale), equal_nan=True):
        bad = ~np.isclose(a, b, rtol=rtol, atol=atol * max(1, scale), equal_nan=True)
        i = np.argwhere(bad)[0]
        return f"{what}: at {tuple(i)} {a[tuple(i)]!r} vs {b[tuple(i)]!r} ({bad.sum()} bad)"
    return None


def run_one(seed, dt):
    rng = np.random.default_rng(seed)
    ctx = Ctx(rng, dt)
    x = ctx.leaf(rand_shape(rng), ties=rng.random() < 0.5)
    log = []
    # setitem under no_grad on the first leaf before use
    if rng.random() < 0.2 and x.c.ndim:
        idx = rand_index(rng, x.c.shape)
        with cr.no_grad():
            x.c[idx] = 0.25
        flat = np.arange(x.c.size).reshape(x.c.shape)[idx]
        with torch.no_grad():
            x.t.view(-1)[torch.tensor(flat.reshape(-1).copy(), dtype=torch.int64)] = 0.25
        log.append(f"setitem {idx}")
    for _ in range(rng.integers(3, 7)):
        op = OPS[rng.integers(len(OPS))]
        x = op(ctx, x)
        log.append(f"{op.__name__} -> {x.c.shape}")
        if x.c.size > 5000:
            break
    err = compare(x.c.numpy(), x.t.detach().numpy(), dt, "forward")
    if err:
        return err, log
    w = rng.standard_normal(x.c.shape).astype(dt)
    if not x.c.requires_grad:
        return None, log
    (x.c * cr.tensor(w)).sum().backward()
    (x.t * torch.tensor(w)).sum().backward()
    for k, (c, t) in enumerate(ctx.leaves):
        gc = c.grad if c.grad is not None else np.zeros_like(c.numpy())
        gt = t.grad.numpy() if t.grad is not None else np.zeros_like(c.numpy())
        err = compare(gc, gt, dt, f"grad leaf {k} {c.shape}")
        if err:
            return err, log
    return None, log


@pytest.mark.parametrize("dt", [np.float64, np.float32])
@pytest.mark.parametrize("chunk", range(4))
def test_random_compositions_match_torch(chunk, dt):
    failures = []
    for seed in range(chunk * 20, chunk * 20 + 20):
        with np.errstate(all="ignore"):  # NaN and inf are compared as values here (all -inf softmax rows)
            err, log = run_one(seed, dt)
        if err:
            failures.append(f"seed {seed}: {err}; ops {log}")
    assert not failures, "\n".join(failures)
