"""Event data: N-MNIST files, frames, a dataset, a recording simulator and perturbations.

- :mod:`spikegraph.events.io`: read and write N-MNIST ``.bin`` files, read MNIST ``idx``;
- :mod:`spikegraph.events.frames`: bin events into ``[T, 2, 34, 34]`` count frames;
- :mod:`spikegraph.events.dataset`: :class:`NMNIST`, a ``torch`` dataset of frames;
- :mod:`spikegraph.events.simulator`: N-MNIST-like recordings from MNIST digits;
- :mod:`spikegraph.events.stats`: summary statistics to compare recordings;
- :mod:`spikegraph.events.perturb`: seeded test-time perturbations;
- :mod:`spikegraph.events.training`: frames in memory, the training and evaluation loops.
"""

from spikegraph.events.dataset import NMNIST
from spikegraph.events.frames import BINNINGS, check_binning, to_frames
from spikegraph.events.io import (
    EVENT_DTYPE,
    NMNIST_SENSOR_SIZE,
    EventFileError,
    IdxFileError,
    make_events,
    read_idx,
    read_nmnist_bin,
    write_nmnist_bin,
)
from spikegraph.events.perturb import (
    LEVELS,
    PERTURBATIONS,
    drop,
    drop_events,
    gaussian_noise,
    jitter,
    jitter_events,
    occlude_events,
    occlusion,
    pepper,
    perturb,
    salt,
    salt_and_pepper,
)
from spikegraph.events.stats import summary_stats

# The simulator is imported on first use, so that ``python -m spikegraph.events.simulator``
# does not find its own module already imported by the package (runpy warns about that).
_SIMULATOR_NAMES = ("SimulatorParams", "generate_nmnist", "sample_rng", "simulate_recording")


def __getattr__(name: str):
    if name in _SIMULATOR_NAMES:
        from spikegraph.events import simulator

        return getattr(simulator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "BINNINGS",
    "EVENT_DTYPE",
    "LEVELS",
    "NMNIST",
    "NMNIST_SENSOR_SIZE",
    "PERTURBATIONS",
    "EventFileError",
    "IdxFileError",
    "SimulatorParams",
    "check_binning",
    "drop",
    "drop_events",
    "gaussian_noise",
    "generate_nmnist",
    "jitter",
    "jitter_events",
    "make_events",
    "occlude_events",
    "occlusion",
    "pepper",
    "perturb",
    "read_idx",
    "read_nmnist_bin",
    "salt",
    "salt_and_pepper",
    "sample_rng",
    "simulate_recording",
    "summary_stats",
    "to_frames",
    "write_nmnist_bin",
]
