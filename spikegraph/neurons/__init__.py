"""Spiking neurons (pure step functions + thin modules) and surrogate gradients."""

from spikegraph.neurons.lif import IF, LIF, NEURONS, LIFState, get_neuron, if_step, lif_step
from spikegraph.neurons.surrogate import (
    SURROGATES,
    ATan,
    Rectangular,
    Sigmoid,
    Surrogate,
    Triangle,
    get_surrogate,
)

__all__ = [
    "IF",
    "LIF",
    "NEURONS",
    "SURROGATES",
    "ATan",
    "LIFState",
    "Rectangular",
    "Sigmoid",
    "Surrogate",
    "Triangle",
    "get_neuron",
    "get_surrogate",
    "if_step",
    "lif_step",
]
