"""The two-core batch split of the fused LSTM, GRU and RNN (chainrule._threads): same results, errors raised,
BLAS back."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import chainrule as cr
from chainrule import _threads, backend, nn
from chainrule.autograd.gradcheck import gradcheck
from chainrule.functional.gru import gru_layer
from chainrule.functional.recurrent import lstm_layer, rnn_layer

needs_openblas = pytest.mark.skipif(backend.blas_threads() is None, reason="NumPy is not built on its own OpenBLAS")


@pytest.fixture
def split_small(monkeypatch):
    """Split even tiny batches, on a BLAS allowed two threads."""
    monkeypatch.setattr(_threads, "MIN_WORK", 0)
    monkeypatch.setattr(_threads, "MIN_STEP", 0)
    monkeypatch.setattr(_threads, "MIN_STEP_RNN", 0)
    monkeypatch.setattr(_threads, "MIN_HALF", 1)
    monkeypatch.delenv("CHAINRULE_THREADS", raising=False)
    previous = backend.set_blas_threads(2)
    yield
    backend.set_blas_threads(previous)


def _run(layer, x, monkeypatch, split: bool):
    """Outputs, states, input and parameter gradients, and a no-grad forward, with or without the split."""
    monkeypatch.setenv("CHAINRULE_THREADS", "2" if split else "1")
    xt = cr.tensor(x, requires_grad=True)
    y, state = layer(xt)
    states = state if isinstance(state, tuple) else (state,)  # LSTM (h, c), GRU and RNN h
    (y.sum() + sum((k + 1) * (s * s).sum() for k, s in enumerate(states))).backward()
    out = [y.numpy().copy()] + [s.numpy().copy() for s in states] + [xt.grad.copy()]
    out += [p.grad.copy() for p in layer.parameters()]
    layer.zero_grad()
    with cr.no_grad():  # the forward without saved arrays splits too
        y, _ = layer(cr.tensor(x))
    return out + [y.numpy().copy()]


def _check_split_matches_one_thread(layer, batch_first, monkeypatch):
    x = np.random.default_rng(1).standard_normal((9, 7, 5) if batch_first else (7, 9, 5)).astype(np.float32)
    assert _threads.split_bounds(9, 7, 10) == [(0, 4), (4, 9)]  # the split really happens
    whole, halves = _run(layer, x, monkeypatch, False), _run(layer, x, monkeypatch, True)
    for a, b in zip(whole, halves):
        np.testing.assert_allclose(b, a, rtol=2e-5, atol=2e-6)


@needs_openblas
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("proj", [0, 3])
def test_split_lstm_matches_one_thread(split_small, monkeypatch, batch_first, proj):
    lstm = nn.LSTM(5, 6, num_layers=2, batch_first=batch_first, proj_size=proj, generator=0)
    _check_split_matches_one_thread(lstm, batch_first, monkeypatch)


@needs_openblas
def test_split_lstm_gradcheck_float64(split_small):
    rng = np.random.default_rng(2)
    args = [cr.tensor(rng.standard_normal(s), requires_grad=True)
            for s in ((4, 6, 3), (6, 2), (6, 2), (8, 3), (8, 2), (8,), (8,))]
    assert _threads.split_bounds(6, 4, 1) == [(0, 3), (3, 6)]
    assert gradcheck(lambda *a: sum(o.sum() * (k + 1) for k, o in enumerate(lstm_layer(*a))), *args)



@needs_openblas
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_split_gru_matches_one_thread(split_small, monkeypatch, batch_first, bidirectional):
    gru = nn.GRU(5, 6, num_layers=2, batch_first=batch_first, bidirectional=bidirectional, generator=0)
    _check_split_matches_one_thread(gru, batch_first, monkeypatch)


@needs_openblas
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_split_rnn_matches_one_thread(split_small, monkeypatch, batch_first, nonlinearity):
    rnn = nn.RNN(5, 6, num_layers=2, nonlinearity=nonlinearity, batch_first=batch_first, bidirectional=True,
                 generator=0)  # fmt: skip
    _check_split_matches_one_thread(rnn, batch_first, monkeypatch)


@needs_openblas
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("layer, gates", [(gru_layer, 3), (rnn_layer, 1)], ids=["gru", "rnn"])
def test_split_gru_and_rnn_gradcheck_float64(split_small, batch_first, layer, gates):
    rng = np.random.default_rng(3)
    g = 2 * gates  # hidden size 2
    args = [cr.tensor(rng.standard_normal(s), requires_grad=True)
            for s in ((6, 4, 3) if batch_first else (4, 6, 3), (6, 2), (g, 3), (g, 2), (g,), (g,))]
    assert _threads.split_bounds(6, 4, 1) == [(0, 3), (3, 6)]
    assert gradcheck(lambda *a: sum(o.sum() * (k + 1) for k, o in enumerate(layer(*a, batch_first=batch_first))),
                     *args)


@needs_openblas
def test_split_puts_blas_threads_back_and_raises_errors(split_small):
    seen = []

    def part(lo, hi):
        seen.append((lo, hi, backend.blas_threads()))
        if lo == 0:
            raise ValueError("part 0 failed")
        return hi

    with pytest.raises(ValueError, match="part 0 failed"):
        _threads.run_parts(part, [(0, 3), (3, 6)])
    assert sorted(seen) == [(0, 3, 1), (3, 6, 1)]  # both ran, single-threaded BLAS each
    assert backend.blas_threads() == 2
    assert _threads.run_parts(lambda lo, hi: hi - lo, [(0, 3), (3, 7)]) == [3, 4]
    assert backend.blas_threads() == 2
    a = np.ones((300, 300), np.float32)
    assert (a @ a)[0, 0] == 300  # the parked BLAS pool comes back for the next product


@needs_openblas
def test_no_split_while_another_thread_runs(split_small):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert _threads.split_bounds(64, 5, 1) == [(0, 64)]
        assert _threads.run_parts(lambda lo, hi: threading.current_thread().name, [(0, 1), (1, 2)]) == [
            threading.current_thread().name] * 2
    finally:
        stop.set()
        other.join()
    assert _threads.split_bounds(64, 5, 1) == [(0, 32), (32, 64)]


def test_no_split_when_turned_off_or_small(monkeypatch):
    monkeypatch.setenv("CHAINRULE_THREADS", "1")
    assert _threads.split_bounds(128, 28, 1 << 20) == [(0, 128)]
    monkeypatch.delenv("CHAINRULE_THREADS")
    assert _threads.split_bounds(128, 28, 256 * 128) == [(0, 128)]  # LSTM H=64: too little work per step
    assert _threads.split_bounds(128, 1, 512 * 128) == [(0, 128)]  # one step (a cell): not worth a hand-over
    assert _threads.split_bounds(32, 28, 1 << 20) == [(0, 32)]  # halves under MIN_HALF samples


@needs_openblas
def test_single_threaded_blas_is_respected(split_small):
    backend.set_blas_threads(1)
    assert _threads.split_bounds(64, 5, 1) == [(0, 64)]


@needs_openblas
@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_split_works_in_a_forked_child():
    code = (
        "import multiprocessing as mp, numpy as np, chainrule as cr\n"
        "from chainrule import nn, _threads, backend\n"
        "_threads.MIN_WORK = 0\n"
        "backend.set_blas_threads(2)\n"
        "lstm = nn.LSTM(3, 4, generator=0)\n"
        "x = cr.tensor(np.ones((5, 40, 3), np.float32))\n"
        "want = lstm(x)[0].numpy()\n"
        "def child(q):\n"
        "    q.put(float(np.abs(lstm(x)[0].numpy() - want).max()))\n"
        "q = mp.get_context('fork').Queue()\n"
        "p = mp.get_context('fork').Process(target=child, args=(q,))\n"
        "p.start(); print(q.get(timeout=60)); p.join(60)\n"
        "assert p.exitcode == 0\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout) < 1e-6


@needs_openblas
def test_the_benchmark_lstm_splits_and_a_small_one_does_not(monkeypatch):
    monkeypatch.delenv("CHAINRULE_THREADS", raising=False)
    previous = backend.set_blas_threads(2)
    try:
        assert _threads.split_bounds(128, 28, 4 * 128 * 128) == [(0, 64), (64, 128)]  # LSTM(28, 128), batch 128
        assert _threads.split_bounds(128, 28, 3 * 128 * 128) == [(0, 64), (64, 128)]  # GRU(28, 128), batch 128
        assert _threads.split_bounds(64, 28, 4 * 128 * 64) == [(0, 64)]  # batch 64: a tie, one thread
        rnn = _threads.MIN_STEP_RNN  # the RNN's own threshold: 256 units split at batch 128, 128 units do not
        assert _threads.split_bounds(128, 28, 256 * 128, min_step=rnn) == [(0, 64), (64, 128)]
        assert _threads.split_bounds(128, 28, 128 * 128, min_step=rnn) == [(0, 128)]
    finally:
        backend.set_blas_threads(previous)


@needs_openblas
def test_chainrule_threads_2_vouches_for_other_threads(split_small, monkeypatch):
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        monkeypatch.setenv("CHAINRULE_THREADS", "2")
        assert _threads.split_bounds(64, 5, 1) == [(0, 32), (32, 64)]
        names = _threads.run_parts(lambda lo, hi: threading.current_thread().name, [(0, 1), (1, 2)])
        assert names[0].startswith("chainrule-split") and names[1] == threading.current_thread().name
    finally:
        stop.set()
        other.join()
