"""Ready-made networks built from the layers in :mod:`spikegraph.nn`."""

from spikegraph.models.gcn import GCN
from spikegraph.models.gnn_guard import GNNGuard
from spikegraph.models.spiking_gnn import SpikingGNN
from spikegraph.models.spiking_mlp import SpikingMLP

__all__ = ["GCN", "GNNGuard", "SpikingGNN", "SpikingMLP"]
