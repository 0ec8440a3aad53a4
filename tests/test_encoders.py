import pytest
import torch

from spikegraph.encoders import BernoulliEncoder, bernoulli, get_encoder, repeat


def test_repeat_copies_the_input_at_every_step():
    x = torch.rand(5, 3)
    out = repeat(x, 4)
    assert out.shape == (4, 5, 3) and all(torch.equal(o, x) for o in out)


def test_bernoulli_rate_matches_probability_and_is_seeded():
    x = torch.full((2000, 1), 0.3)
    g = torch.Generator().manual_seed(1)
    out = bernoulli(x, 8, generator=g)
    assert set(out.unique().tolist()) <= {0.0, 1.0}
    assert out.mean().item() == pytest.approx(0.3, abs=0.02)
    g.manual_seed(1)
    assert torch.equal(out, bernoulli(x, 8, generator=g))


def test_bernoulli_rejects_non_probabilities():
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        bernoulli(torch.tensor([[1.5]]), 2)


@pytest.mark.parametrize("T", [0, -1, 2.0])
def test_bad_time_steps(T):
    with pytest.raises(ValueError, match="time steps T"):
        repeat(torch.rand(2, 2), T)


def test_get_encoder():
    assert isinstance(get_encoder("bernoulli", 3), BernoulliEncoder)
    with pytest.raises(ValueError, match="unknown encoder"):
        get_encoder("latency", 3)
