"""What the command-line entry points share: the same defaults for the same things, flags whose
``choices`` come from the library's registries, and argument types that refuse impossible values
with one line (argparse's usage error, exit status 2) instead of a traceback.
"""

from __future__ import annotations

import argparse

from spikegraph.neurons import SURROGATES
from spikegraph.synapse import SHAPES

__all__ = [
    "DEFAULT_SCALING",
    "DEFAULT_TARGET_RATE",
    "SCALING_CHOICES",
    "SURROGATE_CHOICES",
    "add_scaling",
    "add_target_rate",
    "positive_int",
    "nonnegative_int",
    "rate",
    "scaling_name",
]

DEFAULT_SCALING = "relative"
"""The scaling shape of every entry point (``--scaling``)."""

DEFAULT_TARGET_RATE = 0.1
"""The expected firing rate of the node-classification command lines (``--target-rate``); the
model (:class:`~spikegraph.models.SpikingGNN`) and the pipelines' config
(:class:`~spikegraph.tasks.node_classification.Config`) fire freely unless given one."""

SCALING_CHOICES = [*SHAPES, "none"]
SURROGATE_CHOICES = list(SURROGATES)


def rate(text: str) -> float | None:
    """An expected firing rate in (0, 1), or ``none`` (free firing)."""
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number; give one in (0, 1) or none"
        ) from None
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError(f"{value} is not in (0, 1); give one in (0, 1) or none")
    return value


def positive_int(text: str) -> int:
    """An integer >= 1."""
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not positive; give an integer >= 1")
    return value


def nonnegative_int(text: str) -> int:
    """An integer >= 0."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{value} is negative; give an integer >= 0")
    return value


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def scaling_name(name: str | None) -> str | None:
    """``--scaling``'s value as the models take it: ``"none"`` is ``None``."""
    return None if name is None or name.lower() == "none" else name


def add_scaling(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    default: str | None = DEFAULT_SCALING,
    help: str = "the synaptic scaling shape (none: scaling off)",
) -> None:
    """``--scaling``, one of :data:`~spikegraph.synapse.SHAPES` or ``none``."""
    parser.add_argument(
        "--scaling",
        type=str.lower,
        choices=SCALING_CHOICES,
        default="none" if default is None else default,
        help=f"{help} (default: %(default)s)",
    )


def add_target_rate(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    default: float | None = DEFAULT_TARGET_RATE,
) -> None:
    """``--target-rate``: the expected firing rate of the hidden spiking layers, or ``none``."""
    parser.add_argument(
        "--target-rate",
        type=rate,
        default=default,
        metavar="RATE|none",
        help="expected firing rate of the hidden spiking layers, in (0, 1); none: free firing "
        "(default: %(default)s)",
    )
