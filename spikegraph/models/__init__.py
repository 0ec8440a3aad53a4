"""Ready-made networks built from the layers in :mod:`spikegraph.nn`."""

from spikegraph.models.gcn import GCN
from spikegraph.models.spiking_gnn import SpikingGNN

__all__ = ["GCN", "SpikingGNN"]
