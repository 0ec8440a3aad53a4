"""The committed JSON reports name no folder of the machine that wrote them, and new reports
write the paths they are given relative to the folder the command ran from."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from spikegraph.utils.paths import portable_command, portable_path

REPO = Path(__file__).resolve().parents[1]
REPORTS = sorted(
    p for folder in ("results", "benchmarks/results") for p in (REPO / folder).rglob("*.json")
)
# An absolute POSIX path of at least two parts, not inside a word (``a/b`` or ``1/2`` are not).
ABSOLUTE = re.compile(r"(?<![\w.~/-])/[\w.-]+/[\w./-]*")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_there_are_reports_to_check():
    assert len(REPORTS) > 20


@pytest.mark.parametrize("path", REPORTS, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_report_holds_no_absolute_path(path):
    found = [m for s in _strings(json.loads(path.read_text())) for m in ABSOLUTE.findall(s)]
    assert not found, f"absolute paths in {path.relative_to(REPO)}: {sorted(set(found))[:5]}"


def test_the_pattern_finds_absolute_paths_in_commands_and_fields():
    assert ABSOLUTE.findall("python x.py --root /work/data/a --out r.json") == ["/work/data/a"]
    assert ABSOLUTE.findall("/home/u/ckpt.pt") == ["/home/u/ckpt.pt"]
    assert ABSOLUTE.findall("--root ../shared/datasets 80.5 ± 0.7 µJ / epoch 1/2") == []


def test_absolute_paths_become_relative_to_the_base(tmp_path):
    base = tmp_path / "repo"
    assert portable_path(tmp_path / "data" / "x.bin", base) == "../data/x.bin"
    assert portable_path(base / "results" / "r.json", base) == "results/r.json"
    assert portable_path("already/relative", base) == "already/relative"
    assert portable_path(None, base) is None


def test_a_command_keeps_its_words_and_loses_its_absolute_paths(tmp_path):
    base = tmp_path / "repo"
    words = ["examples/x.py", "--root", str(tmp_path / "d"), f"--out={base / 'o.json'}", "-1"]
    assert portable_command(words, base) == "examples/x.py --root ../d --out=o.json -1"
