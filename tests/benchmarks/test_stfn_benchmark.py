"""benchmarks/stfn.py: its autograd reference is the layer's equations, and timing leaves the
layer's own forward in place."""

import importlib.util
from pathlib import Path

import torch

from spikegraph.nn import STFNorm

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "stfn.py"


def load():
    spec = importlib.util.spec_from_file_location("stfn_benchmark", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reference_matches_the_layer_and_alternation_restores_it():
    bench = load()
    norm = STFNorm(4, threshold=0.5, rho=2.0).double()
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.normal_()
    u = torch.randn(3, 5, 4, dtype=torch.float64)
    torch.testing.assert_close(bench.plain_forward(norm, u), norm(u))
    calls = []
    timed = bench.alternate(lambda: calls.append(STFNorm.forward), steps=2)
    assert set(timed) == {"written_out", "autograd"}
    assert calls.count(bench.plain_forward) == calls.count(bench.WRITTEN_OUT) == 3
    assert STFNorm.forward is bench.WRITTEN_OUT
