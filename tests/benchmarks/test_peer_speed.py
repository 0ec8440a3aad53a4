"""peer_speed's flag checks."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow  # a subprocess that imports torch and PyG
def test_peer_speed_refuses_a_checkout_without_its_package(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(BENCH / "peer_speed.py"), "--peer-root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "has no sgnnbenchmark/ folder" in proc.stderr
