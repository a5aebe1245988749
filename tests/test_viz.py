"""chainrule.viz: the numbers behind each figure, PNGs written atomically, and matplotlib kept optional."""

import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import data, nn, train, viz
from chainrule.errors import ArgumentError, ChainruleError

pytest.importorskip("matplotlib")
PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == PNG


def test_import_chainrule_never_imports_matplotlib():
    code = ("import sys, chainrule, chainrule.viz, chainrule.cli, chainrule.nn.models; "
            "sys.exit(1 if 'matplotlib' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_activation_derivatives_come_from_autograd_and_are_right():
    x = np.linspace(-3, 3, 61)
    c = viz.activation_curves(x)
    assert set(c) == {"sigmoid", "tanh", "ReLU", "leaky ReLU (0.1)", "ELU", "GELU", "softplus"}
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(c["sigmoid"][2], s * (1 - s), atol=1e-12)
    np.testing.assert_allclose(c["tanh"][2], 1 - np.tanh(x) ** 2, atol=1e-12)
    np.testing.assert_allclose(c["softplus"][2], s, atol=1e-12)
    away = np.abs(x) > 1e-9
    np.testing.assert_allclose(c["ReLU"][2][away], (x[away] > 0).astype(float))
    np.testing.assert_allclose(c["leaky ReLU (0.1)"][2][away], np.where(x[away] > 0, 1.0, 0.1))
    np.testing.assert_allclose(c["ELU"][2][x < 0], np.exp(x[x < 0]), atol=1e-12)


def test_loss_curves_give_the_notes_numbers_and_gradients():
    c = viz.loss_curves(np.array([0.504, 0.006, 0.5]))
    np.testing.assert_allclose(c["ce"][:2], [0.685, 5.116], atol=5e-4)
    p = c["p"]
    np.testing.assert_allclose(c["ce_grad"], p - 1, atol=1e-9)  # dL/dz of -log sigmoid(z)
    np.testing.assert_allclose(c["mse_grad"], -2 * (1 - p) * p * (1 - p), atol=1e-9)


def test_init_statistics_show_the_scale_of_each_scheme():
    s = viz.init_statistics(n=300)
    assert s["N(0, 1)"][0].std() == pytest.approx(28, rel=0.1)
    assert s["He"][0].std() == pytest.approx(np.sqrt(2), rel=0.1)
    assert s["Xavier"][0].std() == pytest.approx(np.sqrt(784 * 2 / (784 + 256)), rel=0.1)
    assert np.mean(np.abs(s["N(0, 1)"][1]) > 0.99) > 0.8  # tanh saturates under N(0, 1)


def test_schedule_curves_follow_the_formulas():
    c = viz.schedule_curves(0.1, 0.001, 10)
    t = np.arange(10)
    np.testing.assert_allclose(c["linear decay"], 0.1 - (0.1 - 0.001) * t / 10, rtol=1e-9)
    np.testing.assert_allclose(c["exponential decay"], 0.1 * ((0.001 / 0.1) ** (1 / 10)) ** t, rtol=1e-9)
    assert c["cosine annealing"][0] == pytest.approx(0.1)


@pytest.mark.parametrize("fn", [viz.plot_activations, viz.plot_losses, viz.plot_init, viz.plot_schedules])
def test_notes_figures_write_pngs(tmp_path, fn):
    path = tmp_path / "fig.png"
    fig = fn(path)
    assert _is_png(path) and fig is not None
    assert [p.name for p in tmp_path.iterdir()] == ["fig.png"]  # no temporary file left behind


def test_curves_from_history_and_from_json(tmp_path):
    h = train.History([{"epoch": i, "loss": 1 / i, "accuracy": 1 - 1 / (i + 1), "val_loss": 1.2 / i,
                        "val_accuracy": 0.9 - 1 / (i + 2), "lr": 0.1 / i, "time": 0.1} for i in range(1, 6)])
    viz.plot_curves(h, tmp_path / "a.png")
    h.to_json(tmp_path / "history.json")
    viz.plot_curves(tmp_path / "history.json", tmp_path / "b.png")
    assert _is_png(tmp_path / "a.png") and _is_png(tmp_path / "b.png")
    with pytest.raises(ArgumentError, match="no epochs"):
        viz.plot_curves(train.History(), tmp_path / "c.png")


def test_decision_boundary_and_confusion_matrix(tmp_path):
    x, y = data.make_moons(200, noise=0.1, seed=0)
    model = nn.models.mlp([2, 16, 2], activation="tanh", generator=np.random.default_rng(0))
    from chainrule import optim

    train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), lr=0.03), (x, y), epochs=20,
              seed=0, verbose=False, progress=False)
    viz.plot_decision_boundary(model, x, y, tmp_path / "boundary.png")
    cm = train.metrics.confusion_matrix(y, train.predict(model, x).argmax(axis=1), num_classes=2)
    viz.plot_confusion_matrix(cm, tmp_path / "cm.png", classes=["upper", "lower"])
    assert _is_png(tmp_path / "boundary.png") and _is_png(tmp_path / "cm.png")
    with pytest.raises(cr.ShapeError):
        viz.plot_decision_boundary(model, np.zeros((3, 3)), np.zeros(3, int))
    with pytest.raises(cr.ShapeError):
        viz.plot_confusion_matrix(np.zeros((2, 3)))


def test_output_must_be_a_png_in_an_existing_folder(tmp_path):
    with pytest.raises(ArgumentError, match=".png"):
        viz.plot_schedules(tmp_path / "fig.jpg")
    with pytest.raises(ChainruleError, match="does not exist"):
        viz.plot_schedules(tmp_path / "missing" / "fig.png")


def test_missing_matplotlib_is_a_clear_error(monkeypatch, tmp_path):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # makes `import matplotlib...` fail
    with pytest.raises(viz.PlotDependencyError, match=r'pip install "chainrule\[plot\]"') as e:
        viz.plot_activations(tmp_path / "a.png")
    assert isinstance(e.value, ImportError) and isinstance(e.value, ChainruleError)
    assert not (tmp_path / "a.png").exists()


def test_curves_skip_text_fields_and_refuse_mixed_ones(tmp_path):
    """Non-numeric history fields (QA finding 11): text-only keys are left out, mixed ones are a DataError."""
    records = [{"epoch": i, "loss": 1 / i, "note": "warm-up" if i == 1 else "x", "val_f1": 0.5 + i / 10, "lr": 0.1}
               for i in (1, 2, 3)]
    fig = viz.plot_curves(records, tmp_path / "a.png")
    assert [a.get_title() for a in fig.axes] == ["loss", "f1", "learning rate"]
    assert _is_png(tmp_path / "a.png")
    records[1]["loss"] = "oops"
    with pytest.raises(cr.DataError, match=r"'loss'.*'oops'.*record 2 of 3"):
        viz.plot_curves(records, tmp_path / "b.png")
    with pytest.raises(cr.DataError, match="no numeric quantity"):
        viz.plot_curves([{"epoch": 1, "note": "x"}], tmp_path / "c.png")
    assert not (tmp_path / "b.png").exists() and not (tmp_path / "c.png").exists()


def test_decision_boundary_checks_its_points(tmp_path):
    """Mismatched x and y (QA finding 11) name both shapes; y must be class labels."""
    x, y = data.make_moons(60, noise=0.1, seed=0)
    model = nn.models.shallow_net(2, 4, 1, generator=np.random.default_rng(0))  # one logit per point
    with pytest.raises(cr.ShapeError, match=r"x has 60 points \(shape \(60, 2\)\) but y has shape \(10,\)"):
        viz.plot_decision_boundary(model, x, y[:10], tmp_path / "a.png")
    with pytest.raises(cr.ShapeError, match="one class label per point"):
        viz.plot_decision_boundary(model, x, np.zeros((60, 2)), tmp_path / "a.png")
    with pytest.raises(cr.DataError, match="whole numbers"):
        viz.plot_decision_boundary(model, x, y + 0.5, tmp_path / "a.png")
    with pytest.raises(cr.DataError, match="numbers"):
        viz.plot_decision_boundary(model, x, np.array(["a"] * 60), tmp_path / "a.png")
    assert not (tmp_path / "a.png").exists()
    fig = viz.plot_decision_boundary(model, x.tolist(), y.astype(np.float32).reshape(-1, 1), tmp_path / "b.png",
                                     resolution=40)
    acc = np.mean((train.predict(model, x) > 0).reshape(-1) == y)  # one logit: class 1 where it is > 0
    assert fig.axes[0].get_title() == f"decision boundary (accuracy {acc:.3f})" and _is_png(tmp_path / "b.png")


def test_decision_boundary_names_and_plane_to_model_map(tmp_path):
    """classes / feature_names label the plot; to_model maps the plane's points to the model's inputs."""
    x, y = data.make_moons(60, noise=0.1, seed=0)
    model = nn.models.shallow_net(2, 4, 2, generator=np.random.default_rng(0))
    fig = viz.plot_decision_boundary(model, x * 100 + 7, y, resolution=30, classes=["no", "yes"],
                                     feature_names=["a", "b"], to_model=lambda p: (p - 7) / 100)
    ax = fig.axes[0]
    acc = np.mean(train.predict(model, x).argmax(axis=1) == y)
    assert ax.get_title() == f"decision boundary (accuracy {acc:.3f})"
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("a", "b")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["no", "yes"]
    with pytest.raises(cr.ArgumentError, match="feature_names must name the 2 axes"):
        viz.plot_decision_boundary(model, x, y, feature_names=["a"])
    with pytest.raises(cr.ArgumentError, match="classes names 1 classes"):
        viz.plot_decision_boundary(model, x, y, classes=["only"])
