"""Plots of the notes and of training runs, drawn with matplotlib (imported only when a plot is drawn).

Each ``plot_*`` function returns a matplotlib Figure and, given a ``path`` ending in ``.png``, writes it
there atomically. Without matplotlib they raise :class:`PlotDependencyError` (``pip install "chainrule[plot]"``);
``import chainrule`` and ``import chainrule.viz`` never import matplotlib.

==============================  ================================================================
function                        figure
==============================  ================================================================
``plot_activations``            sigmoid, tanh, ReLU, leaky ReLU, ELU, GELU, softplus and f' by autograd
``plot_losses``                 cross-entropy vs MSE against the predicted probability, with gradients
``plot_init``                   pre-activation and tanh histograms of a 784->256 layer: N(0,1), Xavier, He
``plot_schedules``              linear / exponential decay, step and cosine learning-rate schedules
``plot_curves``                 loss, metrics and lr per epoch from a History or a history.json
``plot_decision_boundary``      class regions of a trained 2-D classifier
``plot_confusion_matrix``       a confusion matrix with counts
``plot_run_confusion``          the confusion matrix of a ``chainrule train`` run folder
``plot_run_boundary``           the decision boundary of a run folder trained on a 2-D set
==============================  ================================================================
"""

from ._mpl import PlotDependencyError
from .notes import (
    activation_curves,
    init_statistics,
    loss_curves,
    plot_activations,
    plot_init,
    plot_losses,
    plot_schedules,
    schedule_curves,
)
from .training import (
    plot_confusion_matrix,
    plot_curves,
    plot_decision_boundary,
    plot_run_boundary,
    plot_run_confusion,
)

__all__ = [
    "PlotDependencyError",
    "activation_curves",
    "loss_curves",
    "init_statistics",
    "schedule_curves",
    "plot_activations",
    "plot_losses",
    "plot_init",
    "plot_schedules",
    "plot_curves",
    "plot_decision_boundary",
    "plot_confusion_matrix",
    "plot_run_confusion",
    "plot_run_boundary",
]
