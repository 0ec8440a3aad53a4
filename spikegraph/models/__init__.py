"""Ready-made networks built from the layers in :mod:`spikegraph.nn`: ours, the field's spiking
GNNs on the same core, and the ANN baselines."""

from spikegraph.models._blocks import STFNStack
from spikegraph.models.ga_snn import GASNN
from spikegraph.models.gc_snn import GCSNN
from spikegraph.models.gcn import GCN
from spikegraph.models.gnn_guard import GNNGuard
from spikegraph.models.spike_gt import SpikeGT, train_spike_gt
from spikegraph.models.spikegcl import SpikeGCL, TrainResult, linear_probe, train_spikegcl
from spikegraph.models.spiking_gcn import SpikingGCN
from spikegraph.models.spiking_gnn import SpikingGNN
from spikegraph.models.spiking_mlp import SpikingMLP

__all__ = [
    "GASNN",
    "GCN",
    "GCSNN",
    "GNNGuard",
    "STFNStack",
    "SpikeGCL",
    "SpikeGT",
    "SpikingGCN",
    "SpikingGNN",
    "SpikingMLP",
    "TrainResult",
    "linear_probe",
    "train_spike_gt",
    "train_spikegcl",
]
