"""The flag checks of the scripts that run SGNNBench's code (peer_speed, peer_accuracy)."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.slow  # a subprocess that imports torch and PyG
@pytest.mark.parametrize("script", ["peer_speed.py", "peer_accuracy.py"])
def test_a_checkout_without_its_package_is_refused(tmp_path, script):
    proc = subprocess.run(
        [sys.executable, str(BENCH / script), "--peer-root", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "has no sgnnbenchmark/ folder" in proc.stderr


def test_report_names_the_peer_folders_by_placeholder():
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    import peer_speed

    argv = ["--peer-root", "/tmp/x/SGNNBench", "--peer-site=/opt/site", "--epochs", "3"]
    assert peer_speed.report_command(argv) == (
        "python benchmarks/peer_speed.py --peer-root SGNNBENCH_CHECKOUT "
        "--peer-site=ITS_SITE_PACKAGES --epochs 3"
    )
    assert peer_speed.library_source() == "spikegraph/ (this checkout)"
