r"""Firing-rate callback, fixed point, sparse coding and robustness of spiking GNNs on graphs.

The AS-SNN paper claims that adaptive scaling pulls disturbed activity back to an expected level
(a "callback" to the fixed point of a contraction), yields sparse codes, and makes the network
robust to perturbed input. This package measures each claim on a Planetoid graph (Cora by
default), for a model trained with scaling and its twin trained with ``scaling=None``:

1. **Callback** (:func:`callback_experiment`): disturb the input at test time and record, per
   step, the firing rate of every spiking layer and the intensity every synaptic layer
   transmits; report the distance of the final-step values from the undisturbed ones.
2. **Fixed point** (:func:`fixed_point_check`): compare each synapse's measured intensity with
   the fixed point :math:`x^* = \min(1, a f(x^*))` of its trace map for its drive :math:`a`
   (:func:`predicted_fixed_points`; for a relative shape, read against its experience).
3. **Sparse coding** (:func:`sparse_coding`): test accuracy against mean firing rate over a sweep
   of the threshold and of the expected firing rate (``target_rate``), both models; rates binned
   by node degree.
4. **Robustness** (:func:`robustness_grid`): test accuracy under the perturbations of
   :mod:`spikegraph.utils.perturb` at several levels, over seeds.

The scaling model uses the library's default shape (``"relative"``) and every other setting at
the default of :class:`~spikegraph.tasks.node_classification.Config`, the same on every dataset;
:class:`Settings` takes another shape and its hyper-parameters for a comparison.

The code is split by what it does: :mod:`~spikegraph.tasks.firing_callback.analysis` measures,
:mod:`~spikegraph.tasks.firing_callback.figures` draws (matplotlib, imported only when
drawing), and :mod:`~spikegraph.tasks.firing_callback.cli` is the command line
(``examples/firing_callback.py``), which writes one JSON file and one PNG per part into ``--out``.
"""

from spikegraph.tasks.firing_callback.analysis import (
    CALLBACK_DISTURBANCES,
    Settings,
    TraceRecorder,
    callback_experiment,
    experience_prior,
    fixed_point_check,
    graph_twin,
    measure,
    predicted_fixed_points,
    rebase_experience,
    robustness_grid,
    run,
    sparse_coding,
    synapse_trace,
)
from spikegraph.tasks.firing_callback.cli import format_summary, main, parse_args, write_results
from spikegraph.tasks.firing_callback.figures import (
    plot_callback,
    plot_fixed_point,
    plot_robustness,
    plot_sparse_coding,
)

__all__ = [
    "Settings",
    "CALLBACK_DISTURBANCES",
    "TraceRecorder",
    "experience_prior",
    "synapse_trace",
    "predicted_fixed_points",
    "fixed_point_check",
    "graph_twin",
    "rebase_experience",
    "measure",
    "callback_experiment",
    "sparse_coding",
    "robustness_grid",
    "run",
    "plot_callback",
    "plot_fixed_point",
    "plot_sparse_coding",
    "plot_robustness",
    "main",
    "parse_args",
    "write_results",
    "format_summary",
]
