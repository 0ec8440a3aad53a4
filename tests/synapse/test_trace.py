import pytest
import torch

from spikegraph.synapse import (
    SILENT,
    Homeostatic,
    Relative,
    SynapticScaling,
    fixed_point,
    get_scaling,
    scaled_trace,
    trace_init,
    trace_step,
)


def test_running_count_is_mean_of_prior_and_stimuli():
    state = trace_init(torch.tensor([0.5]), prior_weight=1.0)
    for u in (1.0, 0.0, 1.0):
        state = trace_step(state, torch.tensor([u]), decay=1.0)
    assert state.n == 4.0
    assert torch.allclose(state.intensity, torch.tensor([(0.5 + 1 + 0 + 1) / 4]))


def test_exponential_trace_is_bias_corrected_weighted_mean():
    state = trace_init(torch.tensor([0.0]), prior_weight=0.0)
    state = trace_step(state, torch.tensor([1.0]), decay=0.5)
    assert torch.allclose(state.intensity, torch.tensor([1.0]))  # no start-up bias
    state = trace_step(state, torch.tensor([0.0]), decay=0.5)
    assert torch.allclose(state.intensity, torch.tensor([0.5 / 1.5]))


def test_scaled_trace_uses_previous_intensity_and_transmits_scaled_drive():
    shape = Homeostatic(target=0.1, alpha=2.0)
    drive = torch.tensor([[0.5], [0.5]])
    scale, x = scaled_trace(drive, shape, prior=torch.tensor([0.1]), prior_weight=1.0)
    assert torch.allclose(scale[0], torch.tensor([1.0]))  # f(prior) = f(target) = 1
    u1 = 0.5 * 1.0
    assert torch.allclose(x[0], torch.tensor([(0.1 + u1) / 2]))
    f1 = 1 + 2.0 * (0.1 - (0.1 + u1) / 2)
    assert torch.allclose(scale[1], torch.tensor([f1]))
    assert torch.allclose(x[1], torch.tensor([(0.1 + u1 + 0.5 * f1) / 3]))


def test_constant_drive_settles_at_fixed_point():
    shape = Homeostatic(target=0.1, alpha=2.0)
    drive = torch.full((300, 3), 0.4, dtype=torch.float64)
    _, x = scaled_trace(drive, shape, torch.tensor([0.0, 0.5, 1.0]), decay=0.8)
    assert torch.allclose(x[-1], torch.full((3,), fixed_point(shape, 0.4), dtype=torch.float64))


@pytest.mark.parametrize("grad", [False, True])
def test_intensity_is_the_weighted_mean_of_prior_and_transmitted_drive(grad):
    """x(t) = (rho l^t e + sum_s l^(t-s) u(s)) / (rho l^t + sum_s l^(t-s)), u(s) = min(1, a(s)
    f(x(s-1))) with the relative shape f(x) = clip(2 - (x + d) / (e + d), 1/2, 2) (trace.py):
    a weighted mean of the prior and what was transmitted, so it lies in [0, 1]."""
    decay, rho, prior = 0.8, 2.0, [0.05, 0.3, 0.6]
    drive = torch.tensor(
        [[0.0, 0.1, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.2], [0.02, 1.0, 1.0], [1.0, 0.5, 1.0]],
        dtype=torch.float64,
    )  # quiet steps lift f above 1, so that a strong drive then saturates: a f > 1
    scale, x = (
        out.detach()
        for out in scaled_trace(
            drive.clone().requires_grad_(grad),
            Relative(),
            torch.tensor(prior, dtype=torch.float64),
            decay=decay,
            prior_weight=rho,
        )
    )
    saturated = 0
    for k, e in enumerate(prior):
        transmitted, previous = [], e
        for t, a in enumerate(drive[:, k].tolist()):
            f = min(2.0, max(0.5, 2.0 - (previous + SILENT) / (e + SILENT)))
            assert float(scale[t, k]) == pytest.approx(f), (t, k)
            saturated += a * f > 1.0
            transmitted.append(min(1.0, a * f))
            weights = [decay ** (t - s) for s in range(t + 1)]
            carried = sum(w * u for w, u in zip(weights, transmitted, strict=True))
            prior_t = rho * decay ** (t + 1)
            previous = (prior_t * e + carried) / (prior_t + sum(weights))
            assert float(x[t, k]) == pytest.approx(previous), (t, k)
            assert 0.0 <= previous <= 1.0
    assert saturated >= 3  # min(1, .) is exercised: the [0, 1] promise can be broken


def tent_by_hand(x):
    return 0.5 + max(0.0, 1.0 - abs(x - 0.5) / 0.5)


def test_experience_updates_in_training_only_by_the_documented_rule_and_round_trips():
    """After every training call e <- (1 - m) e + m mean x, the intensity averaged over the
    steps and the batch (scaling.py); from experience_init = 0 with the tent shape by hand."""
    m = 0.25
    s = SynapticScaling("tent", 3, experience_momentum=m)
    drive = torch.tensor(  # [T=3, batch=2, K=3]
        [
            [[1.0, 0.4, 0.0], [0.5, 0.4, 0.2]],
            [[1.0, 0.9, 0.0], [1.0, 0.1, 0.3]],
            [[1.0, 0.2, 0.0], [0.0, 0.6, 0.7]],
        ]
    )
    s.eval()
    s(drive)
    assert torch.equal(s.experience, torch.zeros(3))
    s.train()
    expected = [0.0, 0.0, 0.0]
    for _ in range(2):  # the second call starts every trace from the first call's experience
        s(drive)
        for k, e in enumerate(expected):
            intensities = []
            for b in range(2):
                carried, count, previous = e, 1.0, e  # prior_weight 1
                for a in drive[:, b, k].tolist():
                    carried += min(1.0, a * tent_by_hand(previous))
                    count += 1.0
                    previous = carried / count
                    intensities.append(previous)
            expected[k] = (1 - m) * e + m * sum(intensities) / len(intensities)
        assert s.experience.tolist() == pytest.approx(expected, abs=1e-6)
    assert len(set(expected)) == 3 and min(expected) > 0  # three synapses, each its own value
    fresh = SynapticScaling("tent")
    fresh.load_state_dict(s.state_dict())
    assert torch.equal(fresh.experience, s.experience)


def test_experience_rule_is_documented_ema():
    s = SynapticScaling("homeostatic", 1, experience_momentum=0.25, experience_init=0.2)
    drive = torch.tensor([[0.3], [0.6]])
    _, x = scaled_trace(drive, s.shape, torch.tensor([0.2]))
    s(drive)
    assert torch.allclose(s.experience, 0.75 * torch.tensor([0.2]) + 0.25 * x.mean(0))


def test_experience_size_mismatch_is_an_error_and_reset_resizes():
    s = SynapticScaling("tent")
    s(torch.rand(2, 5))
    assert s.num_synapses == 5
    with pytest.raises(ValueError, match="holds 5 synapses but the input has 6"):
        s(torch.rand(2, 6))
    s.reset_experience(6)
    assert s(torch.rand(2, 6)).shape == (2, 6)


def test_indexed_experience_reads_and_updates_only_its_entries():
    s = SynapticScaling("homeostatic", 6, experience_momentum=0.5)
    s.experience.copy_(torch.linspace(0.0, 0.5, 6))
    before = s.experience.clone()
    index = torch.tensor([4, 1])
    drive = torch.tensor([[0.3, 0.9], [0.6, 0.1]])
    scale = s(drive, index=index)
    expected_scale, x = scaled_trace(drive, s.shape, before[index])
    torch.testing.assert_close(scale, expected_scale)
    torch.testing.assert_close(s.experience[index], before[index].lerp(x.mean(0), 0.5))
    untouched = torch.tensor([0, 2, 3, 5])
    assert torch.equal(s.experience[untouched], before[untouched])


def test_indexed_experience_needs_a_sized_buffer_and_valid_ids():
    with pytest.raises(ValueError, match="sized buffer"):
        SynapticScaling("tent")(torch.rand(2, 3), index=torch.arange(3))
    s = SynapticScaling("tent", 4)
    with pytest.raises(ValueError, match=r"values in \[2, 4\]"):
        s(torch.rand(2, 3), index=torch.tensor([2, 3, 4]))
    with pytest.raises(ValueError, match="one entry per synapse"):
        s(torch.rand(2, 3), index=torch.tensor([0, 1]))


def test_scaling_off_returns_none_and_keeps_no_state():
    s = SynapticScaling(None)
    assert s(torch.rand(2, 3)) is None and s.num_synapses is None


@pytest.mark.parametrize(
    "kwargs,match",
    [({"decay": 0.0}, "decay"), ({"experience_momentum": 2.0}, "experience_momentum")],
)
def test_bad_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SynapticScaling("tent", **kwargs)


@pytest.mark.parametrize("name", ["relative", "tent", "homeostatic", "gaussian", "linear"])
@pytest.mark.parametrize(("decay", "prior_weight"), [(1.0, 1.0), (0.8, 0.0), (0.9, 2.5)])
def test_in_place_trace_equals_the_autograd_one(name, decay, prior_weight):
    """The fused no-grad loop (the layers' default) and the autograd-visible one agree, for
    affine shapes (fused multiply-add) and the others, with a batch dimension."""
    shape = get_scaling(name)
    gen = torch.Generator().manual_seed(1)
    drive = torch.rand(6, 3, 40, generator=gen) ** 2  # [T, batch, K]
    prior = torch.rand(40, generator=gen) * 0.5
    prior[:5] = 0.0  # silent synapses: a relative shape reads them through SILENT
    fast = scaled_trace(drive, shape, prior, decay=decay, prior_weight=prior_weight)
    slow = scaled_trace(
        drive.clone().requires_grad_(), shape, prior, decay=decay, prior_weight=prior_weight
    )
    assert not fast[0].requires_grad and slow[0].requires_grad
    for a, b in zip(fast, slow, strict=True):
        torch.testing.assert_close(a, b.detach(), rtol=1e-5, atol=1e-6)
    assert fast[0].std() > 0.05  # the shapes are not all at one clip limit
