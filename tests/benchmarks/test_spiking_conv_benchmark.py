"""The performance benchmark runs end to end (its numbers are not checked: timings are noisy)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "spiking_conv.py"


@pytest.mark.slow
def test_quick_benchmark_writes_every_variant_ratio_and_table(tmp_path):
    out = tmp_path / "bench.json"
    subprocess.run([sys.executable, str(SCRIPT), "--quick", "--json", str(out)], check=True)
    cora = json.loads(out.read_text())["graphs"]["cora"]
    assert {"a", "b", "c", "d", "f", "a:rate", "b:rate"} <= set(cora["time_s"])
    assert all(t > 0 for t in cora["time_s"].values())
    assert {"a", "b", "c", "d", "f"} <= set(cora["peak_mib"])
    names = [name for name, _, _ in cora["ratios"]]
    assert names[:4] == ["(a)/(c)", "(a)/(b)", "(a)/(b), rate-coded input", "(d)/(a)"]
    assert "(f)/(a)" in names
    table = out.with_suffix(".md").read_text()
    assert "| (a)/(b), rate-coded input |" in table
