"""The README's Python snippets run as written (in a temporary folder)."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for code in blocks:
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102 - the README's own code
    assert namespace["history"]["val_accuracy"][-1] > 0.9
    assert (tmp_path / "digits.safetensors").exists()
    assert abs(namespace["x"].grad[0] - 3 * (1 - 0.46211716**2)) < 1e-4
    assert abs(namespace["w"].numpy() - [1.0, 2.0]).max() < 1e-4  # the hand-written descent converged
