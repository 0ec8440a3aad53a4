"""Small helpers shared across the package: graph formats and products (:mod:`.graph`), input
checks (:mod:`.checks`) and seeded graph perturbations (:mod:`.perturb`)."""

from spikegraph.utils.perturb import (
    CLEAN_LEVEL,
    GRAPH_LEVELS,
    GRAPH_PERTURBATIONS,
    add_edges,
    drop_edges,
    flip_features,
    perturb_graph,
    scale_intensity,
)

__all__ = [
    "CLEAN_LEVEL",
    "GRAPH_LEVELS",
    "GRAPH_PERTURBATIONS",
    "add_edges",
    "drop_edges",
    "flip_features",
    "perturb_graph",
    "scale_intensity",
]
