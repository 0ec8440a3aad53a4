"""Ready-made networks built from the layers in :mod:`spikegraph.nn`."""

from spikegraph.models.gcn import GCN
from spikegraph.models.spike_gt import SpikeGT, train_spike_gt
from spikegraph.models.spikegcl import SpikeGCL, TrainResult, linear_probe, train_spikegcl
from spikegraph.models.spiking_gnn import SpikingGNN
from spikegraph.models.spiking_mlp import SpikingMLP

__all__ = [
    "GCN",
    "SpikeGCL",
    "SpikeGT",
    "SpikingGNN",
    "SpikingMLP",
    "TrainResult",
    "linear_probe",
    "train_spike_gt",
    "train_spikegcl",
]
