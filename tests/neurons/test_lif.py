import pytest
import torch

from spikegraph.neurons import IF, LIF, Rectangular, get_neuron, if_step, lif_step


def test_lif_golden_trajectory_soft_reset():
    # decay 0.5, threshold 1, currents 0.6, 0.6, 0.6, 0.0, 1.2 computed by hand:
    # v1 = 0.6            -> no spike
    # v2 = 0.3 + 0.6 = 0.9 -> no spike
    # v3 = 0.45 + 0.6 = 1.05 -> spike, reset to 0.05
    # v4 = 0.025          -> no spike
    # v5 = 0.0125 + 1.2 = 1.2125 -> spike, reset to 0.2125
    lif = LIF(decay=0.5, threshold=1.0, reset="soft")
    spikes = lif(torch.tensor([0.6, 0.6, 0.6, 0.0, 1.2]).view(5, 1))
    assert spikes.flatten().tolist() == [0, 0, 1, 0, 1]
    state = None
    for i in (0.6, 0.6, 0.6, 0.0, 1.2):
        _, state = lif_step(
            torch.tensor([i]), state, decay=0.5, threshold=1.0, surrogate=Rectangular()
        )
    assert state.v.item() == pytest.approx(0.2125)


def test_lif_hard_reset_goes_to_zero():
    state = None
    for i in (1.5, 0.4):
        _, state = lif_step(
            torch.tensor([i]),
            state,
            decay=0.5,
            threshold=1.0,
            reset="hard",
            surrogate=Rectangular(),
        )
    assert state.v.item() == pytest.approx(0.4)  # 0 after the spike, then + 0.4


def test_module_equals_pure_step():
    current = torch.randn(6, 3, 4)
    lif = LIF(decay=0.3, threshold=0.7, reset="hard", surrogate="atan")
    state, expected = None, []
    for i_t in current:
        s, state = lif_step(
            i_t, state, decay=0.3, threshold=0.7, reset="hard", surrogate=lif.surrogate
        )
        expected.append(s)
    assert torch.equal(lif(current), torch.stack(expected))


def test_if_integrates_without_leak():
    spikes = IF(threshold=1.0)(torch.full((4, 1), 0.4))
    assert spikes.flatten().tolist() == [0, 0, 1, 0]  # 0.4, 0.8, 1.2 -> 0.2, 0.6
    s, state = if_step(torch.tensor([0.5]), None, threshold=1.0, surrogate=Rectangular())
    s, state = if_step(torch.tensor([0.5]), state, threshold=1.0, surrogate=Rectangular())
    assert s.item() == 1.0 and state.v.item() == pytest.approx(0.0)


def test_no_state_survives_between_calls():
    lif = LIF()
    x = torch.rand(5, 8)
    assert torch.equal(lif(x), lif(x))


def _stepwise(current, lif):
    state, spikes = None, []
    for i_t in current:
        s, state = lif_step(
            i_t,
            state,
            decay=lif.decay,
            threshold=lif.threshold,
            reset=lif.reset,
            surrogate=lif.surrogate,
            detach_reset=lif.detach_reset,
        )
        spikes.append(s)
    return torch.stack(spikes)


@pytest.mark.parametrize("surrogate", ["rectangular", "sigmoid", "atan", "triangle"])
@pytest.mark.parametrize("reset", ["soft", "hard"])
@pytest.mark.parametrize("detach_reset", [False, True])
def test_hand_written_bptt_equals_autograd_of_the_step(surrogate, reset, detach_reset):
    lif = LIF(decay=0.6, threshold=0.5, reset=reset, surrogate=surrogate, detach_reset=detach_reset)
    current = (torch.randn(7, 5, 6, dtype=torch.float64) * 0.6).requires_grad_()
    weight = torch.randn(7, 5, 6, dtype=torch.float64)  # a loss that weighs every spike
    (expected,) = torch.autograd.grad((_stepwise(current, lif) * weight).sum(), current)
    spikes = lif(current)
    (got,) = torch.autograd.grad((spikes * weight).sum(), current)
    assert torch.equal(spikes, _stepwise(current, lif))
    assert expected.abs().sum() > 0
    torch.testing.assert_close(got, expected, atol=1e-10, rtol=1e-10)


def test_surrogate_gradient_flows_through_lif():
    current = torch.full((1, 1), 0.8, requires_grad=True)
    LIF(threshold=1.0, surrogate="rectangular")(current).sum().backward()
    assert current.grad.item() == 1.0  # |0.8 - 1| < 0.5 inside the window


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"decay": 1.5}, "decay"),
        ({"threshold": 0.0}, "threshold"),
        ({"reset": "zero"}, "unknown reset"),
        ({"surrogate": "relu"}, "unknown surrogate 'relu'"),
    ],
)
def test_bad_neuron_settings_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        LIF(**kwargs)


def test_get_neuron_and_repr():
    assert isinstance(get_neuron("IF"), IF)
    with pytest.raises(ValueError, match="unknown neuron 'izhikevich'"):
        get_neuron("izhikevich")
    assert repr(LIF(decay=0.25, threshold=0.2)) == (
        "LIF(decay=0.25, threshold=0.2, reset=soft, surrogate=ATan(alpha=2))"
    )


def test_empty_sequence_rejected():
    with pytest.raises(ValueError, match="T >= 1"):
        LIF()(torch.empty(0, 3))
