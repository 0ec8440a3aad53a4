"""Normalisation layers for spiking sequences."""

from spikegraph.nn.norm.stfn import STFNorm

__all__ = ["STFNorm"]
