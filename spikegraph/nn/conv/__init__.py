"""Spiking graph convolutions, one per file."""

from spikegraph.nn.conv.spiking_as_conv import SpikingASConv

__all__ = ["SpikingASConv"]
