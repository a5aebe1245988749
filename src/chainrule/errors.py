"""The errors chainrule raises on a user's input.

Every error a user's input can cause is a :class:`ChainruleError`. Each subclass also derives from the
built-in exception it resembles, so ``except ValueError`` keeps working for code that does not know
chainrule. Messages name the layer or argument, what came and what was expected (shapes included).

==========================  =====================  =================================================
class                       also a                 raised when
==========================  =====================  =================================================
``ChainruleError``          ``Exception``          base class of everything below
``ShapeError``              ``ValueError``         shapes do not match (matmul, broadcasting, layers)
``IndexOutOfRangeError``    ``IndexError``         an index past the end (also a ``ShapeError``)
``NoSuchKeyError``          ``KeyError``           a name a ``ModuleDict`` does not hold
``DTypeError``              ``TypeError``          an array of the wrong dtype (e.g. float labels)
``ArgumentError``           ``ValueError``         a bad argument value (negative lr, batch_size 0)
``ArgumentTypeError``       ``TypeError``          an argument of the wrong type
``DataError``               ``ValueError``         bad data: NaN/inf, labels out of range, ragged CSV
``FileFormatError``         ``ValueError``         a corrupt, truncated or foreign file
``MissingFileError``        ``FileNotFoundError``  a file or folder that does not exist
``StateDictError``          ``KeyError``           missing or unexpected keys in a state dict
``GradcheckError``          ``AssertionError``     analytic and numeric gradients disagree
``AutogradError``           ``RuntimeError``       misuse of the graph (backward twice, non-scalar)
``NonFiniteError``          ``FloatingPointError`` a NaN gradient in anomaly mode, a NaN or inf loss in fit
``DownloadError``           ``OSError``            a dataset cannot be fetched (offline, bad checksum)
==========================  =====================  =================================================
"""

from __future__ import annotations


class ChainruleError(Exception):
    """Base class of every error that a user's input can cause in chainrule."""


class ShapeError(ChainruleError, ValueError):
    """Shapes that do not fit together."""


class IndexOutOfRangeError(ShapeError, IndexError):
    """An index past the end of a tensor, a container of modules or a dataset: a ShapeError, and an
    IndexError as NumPy and PyTorch raise (so a ``for`` loop over ``__getitem__`` stops on it)."""


class NoSuchKeyError(ChainruleError, KeyError):
    """A name that a mapping of modules does not hold (``ModuleDict['b']``)."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class DTypeError(ChainruleError, TypeError):
    """An array of a dtype the operation cannot take."""


class ArgumentError(ChainruleError, ValueError):
    """An argument with a value outside what is allowed."""


class ArgumentTypeError(ChainruleError, TypeError):
    """An argument of the wrong type."""


class DataError(ChainruleError, ValueError):
    """Data that cannot be used: NaN or inf, labels out of range, ragged rows."""


class FileFormatError(ChainruleError, ValueError):
    """A file that is corrupt, truncated or of another format."""


class MissingFileError(ChainruleError, FileNotFoundError):
    """A file or folder that does not exist."""


class StateDictError(ChainruleError, KeyError):
    """A state dict with missing or unexpected keys."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0]) if self.args else ""


class GradcheckError(ChainruleError, AssertionError):
    """Analytic and finite-difference gradients disagree."""


class AutogradError(ChainruleError, RuntimeError):
    """A misuse of the autograd graph."""


class NonFiniteError(ChainruleError, FloatingPointError):
    """A NaN or inf where none may be."""


class DownloadError(ChainruleError, OSError):
    """A dataset could not be downloaded or did not verify."""


__all__ = [
    "ChainruleError",
    "ShapeError",
    "IndexOutOfRangeError",
    "NoSuchKeyError",
    "DTypeError",
    "ArgumentError",
    "ArgumentTypeError",
    "DataError",
    "FileFormatError",
    "MissingFileError",
    "StateDictError",
    "GradcheckError",
    "AutogradError",
    "NonFiniteError",
    "DownloadError",
]
