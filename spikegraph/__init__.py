"""spikegraph: spiking graph neural networks with adaptive synaptic scaling (AS-SNN).

The layout mirrors the architecture:

- :mod:`spikegraph.synapse`: the synapse core (traces, scaling shapes, experience);
- :mod:`spikegraph.neurons`: LIF/IF neurons and surrogate gradients;
- :mod:`spikegraph.encoders`: static features to input sequences;
- :mod:`spikegraph.nn`: layers on top of them, graph (``conv/``) and dense (``dense/``);
- :mod:`spikegraph.models`, :mod:`spikegraph.monitor`, :mod:`spikegraph.tasks`: networks,
  firing statistics and the experiments built from them.
"""

from spikegraph.encoders import bernoulli, get_encoder, repeat
from spikegraph.models import GCN, SpikingGNN
from spikegraph.monitor import FiringMonitor
from spikegraph.neurons import IF, LIF, get_neuron, get_surrogate
from spikegraph.nn import ASLinear, SpikingASConv
from spikegraph.synapse import SynapticScaling, fixed_point, get_scaling, lipschitz

__version__ = "0.1.0"

__all__ = [
    "IF",
    "LIF",
    "ASLinear",
    "FiringMonitor",
    "GCN",
    "SpikingGNN",
    "SpikingASConv",
    "SynapticScaling",
    "__version__",
    "bernoulli",
    "fixed_point",
    "get_encoder",
    "get_neuron",
    "get_scaling",
    "get_surrogate",
    "lipschitz",
    "repeat",
]
