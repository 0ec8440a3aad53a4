"""Spiking layers: graph convolutions in ``conv/``, dense layers in ``dense/``,
normalisation in ``norm/``."""

from spikegraph.nn.conv import SpikingASConv
from spikegraph.nn.dense import ASLinear
from spikegraph.nn.norm import STFNorm

__all__ = ["ASLinear", "STFNorm", "SpikingASConv"]
