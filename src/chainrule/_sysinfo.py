"""``chainrule info``: versions, the BLAS NumPy uses, thread settings and optional packages.

>>> any(line.startswith("chainrule") for line in info_lines())
True
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import platform

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS", "BLIS_NUM_THREADS")
# (import name, distribution name, what chainrule uses it for)
OPTIONAL = (("matplotlib", "matplotlib", "plots (chainrule[plot])"), ("tqdm", "tqdm", "progress bars"),
            ("PIL", "pillow", "reading PNG inputs"), ("threadpoolctl", "threadpoolctl", "BLAS thread info"),
            ("safetensors", "safetensors", "cross-checks of the file format"),
            ("torch", "torch", "cross-checks in the tests"), ("sklearn", "scikit-learn", "benchmarks"),
            ("hypothesis", "hypothesis", "property tests"), ("pytest", "pytest", "tests"))


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def blas_lines() -> list[str]:
    """The BLAS / LAPACK NumPy was built with, and (with threadpoolctl) the thread pools loaded now."""
    import numpy as np

    lines = []
    try:
        deps = np.show_config(mode="dicts").get("Build Dependencies", {})
        for key in ("blas", "lapack"):
            d = deps.get(key, {})
            if d:
                extra = d.get("openblas configuration", "")
                lines.append(f"{key:<10}{d.get('name', '?')} {d.get('version', '')}" + (f" ({extra})" if extra else ""))
    except (TypeError, AttributeError, ValueError):  # NumPy 1.x: show_config has no dict mode
        lines.append("blas      (see numpy.show_config())")
    if importlib.util.find_spec("threadpoolctl") is not None:
        try:
            from threadpoolctl import threadpool_info

            for pool in threadpool_info():
                lines.append(f"threads   {pool.get('internal_api', '?')}: {pool.get('num_threads')} "
                             f"({pool.get('user_api', '')}, {os.path.basename(pool.get('filepath', ''))})")
        except Exception as e:  # threadpoolctl inspects native libraries; never let it break `info`
            lines.append(f"threads   (threadpoolctl failed: {type(e).__name__})")
    return lines


def info_lines() -> list[str]:
    import numpy as np

    from . import __version__

    lines = [f"chainrule {__version__}",
             f"python    {platform.python_version()} ({platform.python_implementation()}, {platform.machine()}, "
             f"{platform.system()} {platform.release()})",
             f"numpy     {np.__version__}"]
    lines += blas_lines()
    cpus = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = cpus
    lines.append(f"cpus      {cpus} ({usable} usable by this process)")
    env = [f"{v}={os.environ[v]}" for v in THREAD_VARS if v in os.environ]
    lines.append("env       " + (" ".join(env) if env else "no thread variables set (" + ", ".join(THREAD_VARS[:3])
                                 + ", ...)"))
    from . import backend

    axpby = backend._find_axpby()
    lines.append(f"speedups  malloc tuning {'on' if backend.malloc_tuned else 'off'}; optimizer updates through "
                 + ("BLAS axpby (NumPy's OpenBLAS)" if axpby else "NumPy (no BLAS axpby found, or turned off)"))
    lines.append("optional packages:")
    for mod, dist, why in OPTIONAL:
        present = importlib.util.find_spec(mod) is not None
        v = _version(dist) if present else None
        state = (v or "installed") if present else "not installed"
        lines.append(f"  {dist:<14}{state:<16}{why}")
    return lines
