"""ACC, BWT and forgetting on hand-made accuracy matrices."""

from __future__ import annotations

import pytest

from spikegraph.continual.metrics import (
    average_accuracy,
    backward_transfer,
    forgetting,
    learning_accuracy,
    summarize,
)

R = [
    [0.6, 0.1, 0.2],
    [0.9, 0.8, 0.1],
    [0.5, 0.7, 0.9],
]


def test_metrics_of_a_hand_made_matrix():
    assert average_accuracy(R) == pytest.approx((0.5 + 0.7 + 0.9) / 3)
    assert backward_transfer(R) == pytest.approx(((0.5 - 0.6) + (0.7 - 0.8)) / 2)
    # forgetting uses the best earlier accuracy: 0.9 (after task 1) for task 0, not 0.6
    assert forgetting(R) == pytest.approx(((0.9 - 0.5) + (0.8 - 0.7)) / 2)
    assert learning_accuracy(R) == pytest.approx((0.6 + 0.8 + 0.9) / 3)
    # ACC = LA + (T - 1) / T * BWT
    assert average_accuracy(R) == pytest.approx(learning_accuracy(R) + 2 / 3 * backward_transfer(R))


def test_partial_matrix_uses_only_the_tasks_seen():
    s = summarize(R[:2])
    assert s["acc"] == pytest.approx((0.9 + 0.8) / 2)  # task 2's 0.1 is not counted
    assert s["bwt"] == pytest.approx(0.9 - 0.6)
    assert s["forgetting"] == pytest.approx(0.6 - 0.9)  # negative: task 0 improved later
    assert s["acc_curve"] == pytest.approx([0.6, 0.85])


def test_one_task_has_no_transfer_and_no_forgetting():
    assert backward_transfer([[0.7, 0.1]]) == 0.0
    assert forgetting([[0.7, 0.1]]) == 0.0
    assert average_accuracy([[0.7, 0.1]]) == pytest.approx(0.7)


@pytest.mark.parametrize("bad", [[0.5, 0.5], [[0.5], [0.4]], [[float("nan")]], []])
def test_bad_matrices_are_refused(bad):
    with pytest.raises(ValueError, match="R"):
        average_accuracy(bad)
