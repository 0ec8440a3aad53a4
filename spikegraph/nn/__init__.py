"""Spiking layers: graph convolutions in ``conv/``, dense layers in ``dense/``."""

from spikegraph.nn.conv import SpikingASConv
from spikegraph.nn.dense import ASLinear

__all__ = ["ASLinear", "SpikingASConv"]
