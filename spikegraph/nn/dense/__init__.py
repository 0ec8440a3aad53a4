"""Dense spiking layers on the synapse core."""

from spikegraph.nn.dense.as_linear import ASLinear

__all__ = ["ASLinear"]
