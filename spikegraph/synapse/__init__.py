"""The synapse core: intensity traces, scaling shapes and the long-term experience.

It knows nothing of graphs or images; :class:`~spikegraph.nn.SpikingASConv` and
:class:`~spikegraph.nn.ASLinear` both build on it.
"""

from spikegraph.synapse.consolidation import (
    ConsolidatedUpdates,
    consolidate,
    consolidate_updates,
    scale_gradient,
)
from spikegraph.synapse.rate import TargetRate
from spikegraph.synapse.scaling import SynapticScaling
from spikegraph.synapse.settling import settle
from spikegraph.synapse.shapes import (
    SHAPES,
    Gaussian,
    Homeostatic,
    Linear,
    MeanField,
    Relative,
    ScalingShape,
    Tent,
    fixed_point,
    get_scaling,
    lipschitz,
)
from spikegraph.synapse.trace import SILENT, TraceState, scaled_trace, trace_init, trace_step

__all__ = [
    "ConsolidatedUpdates",
    "SHAPES",
    "SILENT",
    "Gaussian",
    "Homeostatic",
    "Linear",
    "MeanField",
    "Relative",
    "ScalingShape",
    "SynapticScaling",
    "TargetRate",
    "Tent",
    "TraceState",
    "consolidate",
    "consolidate_updates",
    "fixed_point",
    "get_scaling",
    "lipschitz",
    "scale_gradient",
    "scaled_trace",
    "settle",
    "trace_init",
    "trace_step",
]
