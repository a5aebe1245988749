"""matplotlib, imported only when a plot is drawn, through its object-oriented API and the Agg canvas.

No pyplot: figures are plain :class:`matplotlib.figure.Figure` objects on an Agg canvas, so plotting
never touches matplotlib's global backend or state (safe in scripts, servers and notebooks alike), and
PNG files are written atomically through :func:`chainrule._atomic.atomic_write`.
"""

from __future__ import annotations

from .._atomic import atomic_write, user_path
from ..errors import ArgumentError, ChainruleError


class PlotDependencyError(ChainruleError, ImportError):
    """matplotlib is not installed."""


def new_figure(nrows: int = 1, ncols: int = 1, figsize=(6.4, 4.8)):
    """(figure, 2-D array of axes) on an Agg canvas; PlotDependencyError without matplotlib."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise PlotDependencyError('plotting needs matplotlib: pip install "chainrule[plot]"') from None
    fig = Figure(figsize=figsize, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes


def check_png_path(path) -> str:
    """``path`` as a str (str, bytes or os.PathLike) naming a ``.png`` file, checked before anything is drawn."""
    path = user_path(path, "plot output path")
    if not path.lower().endswith(".png"):
        raise ArgumentError(f"plot output {path!r}: expected a file name ending in .png")
    return path


def save(fig, path, dpi: int = 120) -> str:
    """Write ``fig`` as a PNG to ``path`` atomically; return the path."""
    path = check_png_path(path)
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=dpi)
    return path


def finish(fig, path):
    """Save when a path is given; return the figure either way (for notebooks and further edits)."""
    if path is not None:
        save(fig, path)
    return fig
