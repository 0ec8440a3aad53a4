import numpy as np
import pytest
import torch

from spikegraph.events import (
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
    to_frames,
)

from .conftest import random_events

RANDOM = ["gaussian", "salt", "pepper", "salt_pepper", "drop", "jitter"]


def counts(shape=(4, 2, 34, 34), rate=0.8, seed=0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.poisson(torch.full(shape, rate), generator=g)


def test_levels_table_has_15_increasing_levels_from_clean():
    assert set(LEVELS) == set(PERTURBATIONS)
    for levels in LEVELS.values():
        assert len(levels) == 15 and levels[0] == 0 and np.all(np.diff(levels) > 0)


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_level_0_is_the_identity(name):
    frames = counts()
    out = perturb(name, frames, 0.0, 1)
    assert torch.equal(out, frames) and out.data_ptr() != frames.data_ptr()


@pytest.mark.parametrize("name", RANDOM)
def test_a_seed_reproduces_the_perturbation(name):
    frames, level = counts(), LEVELS[name][7]
    a, b = perturb(name, frames, level, 3), perturb(name, frames, level, 3)
    assert torch.equal(a, b) and not torch.equal(a, perturb(name, frames, level, 4))


@pytest.mark.parametrize("name", list(PERTURBATIONS))
def test_every_level_keeps_shape_and_non_negative_counts(name):
    frames = counts((2, 3, 2, 34, 34))
    for level in LEVELS[name]:
        out = perturb(name, frames, level, torch.Generator().manual_seed(0))
        assert out.shape == frames.shape and out.min() >= 0


def test_input_is_never_modified():
    frames = counts()
    before = frames.clone()
    for name in PERTURBATIONS:
        perturb(name, frames, LEVELS[name][-1], 0)
    assert torch.equal(frames, before)


def test_occlusion_zeros_exactly_the_centred_square():
    frames = torch.ones(3, 2, 34, 34)
    out = occlusion(frames, 10)
    expected = torch.ones(34, 34)
    expected[12:22, 12:22] = 0
    assert torch.equal(out, expected.expand_as(frames))


def test_occlusion_of_odd_side_starts_at_floor_of_the_margin():
    out = occlusion(torch.ones(1, 34, 34), 5)
    rows = (out[0] == 0).any(dim=1).nonzero().flatten().tolist()
    assert rows == [14, 15, 16, 17, 18]


def test_salt_sets_the_level_fraction_of_entries():
    out = salt(torch.zeros(10, 2, 34, 34), 0.2, 0)
    assert set(out.unique().tolist()) == {0.0, 1.0}
    assert out.mean().item() == pytest.approx(0.2, abs=0.01)


def test_salt_value_can_be_chosen():
    out = salt(torch.zeros(10, 2, 34, 34), 0.1, 0, value=5.0)
    assert (out == 5).float().mean().item() == pytest.approx(0.1, abs=0.01)


def test_pepper_zeros_the_level_fraction_of_entries():
    out = pepper(torch.full((10, 2, 34, 34), 3.0), 0.3, 0)
    assert (out == 0).float().mean().item() == pytest.approx(0.3, abs=0.01)
    assert set(out.unique().tolist()) == {0.0, 3.0}


def test_salt_and_pepper_splits_the_hits_evenly():
    out = salt_and_pepper(torch.full((10, 2, 34, 34), 2.0), 0.2, 0)
    assert (out == 1).float().mean().item() == pytest.approx(0.1, abs=0.01)
    assert (out == 0).float().mean().item() == pytest.approx(0.1, abs=0.01)
    assert (out == 2).float().mean().item() == pytest.approx(0.8, abs=0.01)


def test_drop_keeps_one_minus_p_of_the_counts():
    frames = torch.full((10, 2, 34, 34), 10.0)
    out = drop(frames, 0.3, 0)
    assert out.sum().item() / frames.sum().item() == pytest.approx(0.7, abs=0.005)
    assert torch.equal(out, out.round()) and bool((out <= frames).all())


def test_drop_refuses_non_counts():
    with pytest.raises(ValueError, match="non-negative integers"):
        drop(torch.full((2, 2), 0.5), 0.1, 0)


def test_gaussian_noise_has_the_level_as_standard_deviation():
    frames = torch.full((20, 2, 34, 34), 10.0)  # far from 0, so the clamp never acts
    out = gaussian_noise(frames, 0.7, 0)
    assert (out - frames).std().item() == pytest.approx(0.7, rel=0.03)
    assert (out - frames).mean().item() == pytest.approx(0.0, abs=0.02)


def test_gaussian_noise_is_clamped_at_zero():
    out = gaussian_noise(torch.zeros(4, 2, 34, 34), 1.0, 0)
    assert out.min() == 0 and (out > 0).float().mean().item() == pytest.approx(0.5, abs=0.03)


def test_jitter_moves_each_frame_rigidly_by_at_most_k():
    frames = torch.zeros(50, 2, 34, 34)
    frames[:, 0, 17, 16] = 1  # one event in the middle of every frame
    frames[:, 1, 10, 20] = 2
    out = jitter(frames, 3, 0)
    assert torch.equal(out.sum(dim=(1, 2, 3)), frames.sum(dim=(1, 2, 3)))  # nothing falls off
    moves = set()
    for before, after in zip(frames, out, strict=True):
        (y0, x0), (y1, x1) = (f[0].nonzero()[0].tolist() for f in (before, after))
        assert (after[1].nonzero()[0] - before[1].nonzero()[0]).tolist() == [y1 - y0, x1 - x0]
        assert max(abs(y1 - y0), abs(x1 - x0)) <= 3
        moves.add((y1 - y0, x1 - x0))
    assert len(moves) > 10  # frames get their own offsets


def test_jitter_loses_what_leaves_the_sensor():
    frames = torch.zeros(200, 1, 34, 34)
    frames[:, 0, 0, 0] = 1  # a corner pixel leaves the view for most shifts
    assert 0 < jitter(frames, 2, 0).sum().item() < 200


def test_unknown_perturbation_name_lists_the_choices():
    with pytest.raises(ValueError, match="unknown perturbation 'blur'.*'occlusion'"):
        perturb("blur", counts(), 1.0, 0)


@pytest.mark.parametrize(
    "name,level",
    [("salt", 1.5), ("pepper", -0.1), ("drop", 2.0), ("jitter", 1.5), ("occlusion", 40)],
)
def test_invalid_levels_are_rejected(name, level):
    with pytest.raises(ValueError, match="level"):
        perturb(name, counts(), level, 0)


def test_drop_events_keeps_one_minus_p():
    events = random_events(20_000)
    kept = drop_events(events, 0.4, 0)
    assert len(kept) / len(events) == pytest.approx(0.6, abs=0.015)
    assert np.all(np.diff(kept["t"]) >= 0)


def test_jitter_events_moves_each_event_by_at_most_k():
    events = random_events(5000)
    events["x"], events["y"] = 17, 16
    moved = jitter_events(events, 2, 0)
    assert len(moved) == len(events)
    assert np.abs(moved["x"] - 17).max() == 2 and np.abs(moved["y"] - 16).max() == 2


def test_occluding_events_matches_occluding_frames():
    events = random_events(5000)
    frames = to_frames(occlude_events(events, 12), 1)  # one frame: no time windows to shift
    assert torch.equal(frames, occlusion(to_frames(events, 1), 12))
