"""chainrule.viz, third QA sweep: bad matrices, resolutions, points, output paths, histories and run folders
are ChainruleErrors (or an OSError naming the path, as chainrule's atomic writer reports) raised before drawing."""

import errno
import os

import numpy as np
import pytest

from chainrule import data, nn, train, viz
from chainrule.errors import ArgumentError, ArgumentTypeError, DataError

pytest.importorskip("matplotlib")
PNG = b"\x89PNG\r\n\x1a\n"


def _is_png(path) -> bool:
    with open(path, "rb") as f:
        return f.read(8) == PNG


def _texts(fig) -> list:
    return [t.get_text() for t in fig.axes[0].texts]


# ------------------------------------------------------------------------------------ confusion matrix
@pytest.mark.parametrize("cm, match", [
    (np.zeros((0, 0)), "0x0"),
    (np.array([[1.0, np.nan], [0.0, 2.0]]), r"cell \(0, 1\) is nan; every count must be finite"),
    (np.array([[1.0, 0.0], [np.inf, 2.0]]), r"cell \(1, 0\) is inf; every count must be finite"),
    (np.array([[3, -1], [0, 2]]), r"cell \(0, 1\) is -1; every count must be non-negative"),
    (np.array([["a", "b"], ["c", "d"]]), "counts .numbers., got dtype <U1"),
    (np.array([[1, None], [0, 2]], dtype=object), r"cell \(0, 1\) is None \(NoneType\)"),
    ([[1, 2], [3]], "square matrix of counts"),
])
def test_confusion_matrix_refuses_what_cannot_be_drawn(tmp_path, cm, match):
    with pytest.raises(DataError, match=match):
        viz.plot_confusion_matrix(cm, tmp_path / "cm.png")
    assert not (tmp_path / "cm.png").exists()


def test_confusion_matrix_draws_fractions_huge_and_object_counts(tmp_path):
    fig = viz.plot_confusion_matrix(np.array([[0.75, 0.25], [0.1, 0.9]]), tmp_path / "a.png")
    assert _texts(fig) == ["0.75", "0.25", "0.1", "0.9"]  # a normalised matrix is not written as zeros
    assert fig.axes[0].get_title() == "confusion matrix (accuracy 0.8250)"
    fig = viz.plot_confusion_matrix(np.array([[1e308, 1e308], [0.0, 1e308]]), tmp_path / "b.png")
    assert _texts(fig) == ["1e+308"] * 3 and fig.axes[0].get_title().endswith("(accuracy 0.6667)")
    fig = viz.plot_confusion_matrix(np.array([[5, 1], [0, 4]], dtype=object), tmp_path / "c.png")
    assert _texts(fig) == ["5", "1", "4"]
    fig = viz.plot_confusion_matrix(np.zeros((1, 1), dtype=np.int64))  # one class, no samples yet
    assert fig.axes[0].get_title() == "confusion matrix (accuracy 0.0000)"
    assert all(_is_png(tmp_path / n) for n in ("a.png", "b.png", "c.png"))


# ------------------------------------------------------------------------------------ decision boundary
@pytest.fixture
def moons_model():
    x, y = data.make_moons(40, noise=0.1, seed=0)
    return nn.models.shallow_net(2, 4, 2, generator=np.random.default_rng(0)), x, y


@pytest.mark.parametrize("resolution, error", [
    (1, ArgumentError), (0, ArgumentError), (-5, ArgumentError), (2001, ArgumentError),
    (2.5, ArgumentTypeError), ("a", ArgumentTypeError), (True, ArgumentTypeError), (None, ArgumentTypeError),
])
def test_decision_boundary_checks_resolution_before_predicting(resolution, error):
    x, y = data.make_moons(20, noise=0.1, seed=0)
    with pytest.raises(error, match=f"resolution must be .*got {resolution!r}"):
        viz.plot_decision_boundary(object(), x, y, resolution=resolution)  # not a model: never reached


def test_decision_boundary_smallest_resolution_draws(moons_model, tmp_path):
    model, x, y = moons_model
    viz.plot_decision_boundary(model, x, y, tmp_path / "a.png", resolution=np.int64(2))
    assert _is_png(tmp_path / "a.png")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_decision_boundary_names_a_non_finite_point_before_predicting(bad):
    x, y = data.make_moons(20, noise=0.1, seed=0)
    x[3, 1] = bad
    with pytest.raises(DataError, match=rf"x holds {bad} at point 3 \(column 1\)"):
        viz.plot_decision_boundary(object(), x, y, resolution=10)


# ------------------------------------------------------------------------------------ output paths
def test_output_path_bytes_like_str_and_other_types_refused(tmp_path):
    viz.plot_schedules(os.fsencode(tmp_path / "b.png"))
    assert _is_png(tmp_path / "b.png")
    for bad in (5, 2.5, ["a.png"]):
        with pytest.raises(ArgumentTypeError, match=f"plot output path must be a str, bytes or os.PathLike path, "
                                                    f"got {type(bad).__name__}"):
            viz.plot_schedules(bad)


def test_a_name_as_long_as_the_folder_allows_is_written_and_a_longer_one_is_named(tmp_path):
    name_max = os.pathconf(tmp_path, "PC_NAME_MAX")
    fits = tmp_path / ("a" * (name_max - 4) + ".png")  # the atomic writer's temporary name is kept shorter
    viz.plot_schedules(fits)
    assert _is_png(fits)
    path = str(tmp_path / ("b" * (name_max + 46) + ".png"))
    with pytest.raises(OSError) as e:
        viz.plot_schedules(path)
    assert e.value.errno == errno.ENAMETOOLONG and e.value.filename == path
    assert os.listdir(tmp_path) == [fits.name]


# ------------------------------------------------------------------------------------ curves
def test_curves_refuse_a_folder_and_records_that_are_not_dicts(tmp_path):
    with pytest.raises(ArgumentError, match="is a folder; expected the path of a history.json file$"):
        viz.plot_curves(tmp_path)
    train.History([{"epoch": 1, "loss": 0.5}]).to_json(tmp_path / "history.json")
    with pytest.raises(ArgumentError, match=r"is a folder.*this folder has one: .*history\.json"):
        viz.plot_curves(os.fsencode(tmp_path))
    assert viz.plot_curves(os.fsencode(tmp_path / "history.json")) is not None  # a bytes path is a path
    with pytest.raises(ArgumentTypeError, match=r"record 1 of 3 is 1 \(int\); expected one dict per epoch"):
        viz.plot_curves([1, 2, 3])
    with pytest.raises(ArgumentTypeError, match=r"record 2 of 2 is 'x' \(str\)"):
        viz.plot_curves({"epochs": [{"loss": 1.0}, "x"]})


def test_curves_leave_out_values_too_large_to_draw(tmp_path):
    records = [{"epoch": 1, "loss": 1e308, "val_loss": 2.0, "lr": 0.1},
               {"epoch": 2, "loss": -1e308, "val_loss": 10**400, "lr": 0.1},
               {"epoch": 3, "loss": 0.5, "val_loss": 0.7, "lr": 0.05}]
    fig = viz.plot_curves(records, tmp_path / "a.png")
    assert [a.get_title() for a in fig.axes] == ["loss (3 values too large to draw)", "learning rate"]
    assert _is_png(tmp_path / "a.png")
    records[1]["lr"] = float("inf")
    fig = viz.plot_curves(records)
    assert fig.axes[1].get_title() == "learning rate (1 value too large to draw)"
    records[2]["epoch"] = 1e308
    with pytest.raises(DataError, match=r"record 3 of 3 has epoch 1e\+308"):
        viz.plot_curves(records)


# ------------------------------------------------------------------------------------ run folders
@pytest.mark.parametrize("fn, run_dir", [(viz.plot_run_confusion, None), (viz.plot_run_confusion, 5),
                                         (viz.plot_run_boundary, 5), (viz.plot_run_boundary, 2.0)])
def test_run_plots_need_a_path(fn, run_dir):
    with pytest.raises(ArgumentTypeError, match=f"{fn.__name__}: run_dir must be a str, bytes or os.PathLike "
                                                f"path, got {type(run_dir).__name__}"):
        fn(run_dir)


def test_run_plots_check_the_output_before_any_work(tmp_path):
    with pytest.raises(ArgumentTypeError, match="plot output path"):
        viz.plot_run_boundary(None, 7)  # would otherwise train a network first
    with pytest.raises(ArgumentError, match=r"expected a file name ending in \.png"):
        viz.plot_run_confusion(tmp_path, tmp_path / "cm.jpg")
