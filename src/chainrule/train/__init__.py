"""Training: the ``fit`` loop, ``evaluate``, ``predict``, callbacks, metrics and the History of a run.

>>> import numpy as np, chainrule as cr
>>> from chainrule import nn, optim, train
>>> x = np.random.default_rng(0).standard_normal((64, 2)).astype(np.float32)
>>> y = (x[:, :1] - 2 * x[:, 1:]).astype(np.float32)
>>> model = nn.Linear(2, 1)
>>> mse = lambda out, target: ((out - target) ** 2).mean()
>>> h = train.fit(model, mse, optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=30, metrics=(),
...               seed=0, verbose=False)
>>> h["loss"][-1] < 1e-3
True
"""

from . import metrics
from .callbacks import Callback, EarlyStopping, ModelCheckpoint, load_checkpoint
from .fit import evaluate, fit, predict
from .history import History
from .loggers import CSVLogger, JSONLogger

__all__ = ["fit", "evaluate", "predict", "History", "Callback", "EarlyStopping", "ModelCheckpoint", "CSVLogger",
           "JSONLogger", "load_checkpoint", "metrics"]
