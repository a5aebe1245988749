"""What the command-line tests share: running ``chainrule`` in-process and checking its one-line errors."""

from __future__ import annotations

import contextlib
import io
import re

from chainrule.cli import main


def run(*argv):
    """(exit status, stdout, stderr) of main(argv), in-process."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def one_line(err: str) -> str:
    """The only line on standard error (no traceback)."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def assert_bad_input(code, out, err, *, match=None):
    """Exit status 2 with one line ``chainrule: error: ...`` (matching ``match``, if given)."""
    line = one_line(err)
    assert code == 2, (out, err)
    assert line.startswith("chainrule: error: "), err
    if match:
        assert re.search(match, line), line
