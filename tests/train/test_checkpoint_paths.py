"""ModelCheckpoint's paths: Keras-style templates, and every path mistake caught before training (QA2 practice #3)."""

import os

import numpy as np
import pytest

from chainrule import nn, optim, train
from chainrule.errors import ArgumentError


def _data(n=32):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _fit(path_or_cb, val=True, epochs=3, **kw):
    x, y = _data()
    model = nn.Linear(4, 2)
    before = model.weight.numpy().copy()
    cb = path_or_cb if isinstance(path_or_cb, train.Callback) else train.ModelCheckpoint(path_or_cb, **kw)
    try:
        train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y),
                  (x, y) if val else None, epochs=epochs, callbacks=[cb], verbose=False)
    finally:
        model.trained = not np.array_equal(before, model.weight.numpy())
    return model, cb


def test_keras_template_with_the_epochs_logs(tmp_path):
    template = str(tmp_path / "ck_{epoch:02d}-{val_loss:.2f}-{accuracy:.3f}.safetensors")
    _, cb = _fit(template, save_best=False)
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 3 and names[0].startswith("ck_01-") and names[2].startswith("ck_03-")
    ck = train.load_checkpoint(cb.last_path)
    assert os.path.basename(cb.last_path) == f"ck_03-{ck['logs']['val_loss']:.2f}-{ck['logs']['accuracy']:.3f}" \
                                             ".safetensors"
    assert ck["epoch"] == 3
    assert train.ModelCheckpoint("a_{{x}}_{epoch}.safetensors").path_for(2, {}) == "a_{x}_2.safetensors"


@pytest.mark.parametrize("path,match", [
    ("ck_{}.safetensors", r"field \{\}"),
    ("exp{1}/best.safetensors", r"field \{1\}.*\{\{ and \}\}"),
    ("ck_{epoch.real}.safetensors", "field"),
    ("ck_{epoch.safetensors", "not a valid template"),
    ("ck_{val_loss:03d}.safetensors", "cannot be formatted"),
])
def test_malformed_templates_fail_when_the_callback_is_made(path, match):
    with pytest.raises(ArgumentError, match=rf"ModelCheckpoint: path .*{match}"):
        train.ModelCheckpoint(path)


def test_keys_the_logs_will_not_hold_fail_before_any_training(tmp_path):
    cb = train.ModelCheckpoint(str(tmp_path / "ck_{val_acc:.2f}.safetensors"))
    with pytest.raises(ArgumentError, match=r"\{val_acc\}.*will not hold 'val_acc'.*val_accuracy") as e:
        _fit(cb)
    assert "loss" in str(e.value)
    cb = train.ModelCheckpoint(str(tmp_path / "ck_{val_loss:.2f}.safetensors"), monitor="loss")
    with pytest.raises(ArgumentError, match="need val_data"):
        _fit(cb, val=False)
    model = nn.Linear(4, 2)
    before = model.weight.numpy().copy()
    x, y = _data()
    with pytest.raises(ArgumentError):
        train.fit(model, nn.CrossEntropyLoss(), optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2,
                  callbacks=[train.ModelCheckpoint(str(tmp_path / "{f1}.safetensors"))], verbose=False)
    np.testing.assert_array_equal(model.weight.numpy(), before)  # nothing trained
    assert os.listdir(tmp_path) == []


def test_an_existing_file_given_as_a_folder(tmp_path):
    f = tmp_path / "afile"
    f.write_text("")
    with pytest.raises(ArgumentError, match="'.*afile' is an existing file, not a folder"):
        train.ModelCheckpoint(f)
    cb = train.ModelCheckpoint(tmp_path / "later")
    (tmp_path / "later").write_text("")  # made a file after the callback
    with pytest.raises(ArgumentError, match="existing file, not a folder"):
        _fit(cb)
    with pytest.raises(ArgumentError, match="afile/sub' for .*afile' is a file, not a folder"):
        _fit(str(f / "sub" / "ck.safetensors"))


def test_file_paths_get_their_folders(tmp_path):
    _fit(str(tmp_path / "no" / "such" / "dir" / "ck.safetensors"), epochs=1)
    assert os.listdir(tmp_path / "no" / "such" / "dir") == ["ck.safetensors"]
    _fit(str(tmp_path / "run{epoch}" / "ck.safetensors"), epochs=2, save_best=False)
    assert (tmp_path / "run1" / "ck.safetensors").exists() and (tmp_path / "run2" / "ck.safetensors").exists()


@pytest.mark.parametrize("name", ["model.pt", "ck.h5", "weights.pth", "best.ckpt"])
def test_other_formats_names_are_refused_not_made_folders(tmp_path, name):
    with pytest.raises(ArgumentError, match=r"looks like a file name.*'\.safetensors'"):
        train.ModelCheckpoint(tmp_path / name)
    (tmp_path / "exists.pt").mkdir()  # an existing folder of that name is a folder
    assert train.ModelCheckpoint(tmp_path / "exists.pt").is_dir


def test_a_folder_named_like_a_file(tmp_path):
    (tmp_path / "x.safetensors").mkdir()
    with pytest.raises(ArgumentError, match="is a folder"):
        train.ModelCheckpoint(tmp_path / "x.safetensors")
