import pytest
import torch

from spikegraph.models import SpikingGNN
from spikegraph.nn import SpikingASConv
from spikegraph.synapse import settle
from spikegraph.testing import homophilous_graph


def trained_with_dropout():
    torch.manual_seed(0)
    data = homophilous_graph(120, 3, 24, binary=True)
    model = SpikingGNN(24, 32, 3, T=6, dropout=0.5, threshold=0.5, experience="synapse")
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(15):
        opt.zero_grad()
        out = model(data.x, data.edge_index)
        torch.nn.functional.cross_entropy(out, data.y).backward()
        opt.step()
    return model, data


def eval_scale_means(model, data):
    means = []
    hooks = [
        m.scaling.register_forward_hook(lambda mod, args, scale: means.append(float(scale.mean())))
        for m in model.modules()
        if isinstance(m, SpikingASConv)
    ]
    model.eval()
    with torch.no_grad():
        model(data.x, data.edge_index)
    for h in hooks:
        h.remove()
    return means


def test_settle_measures_the_experience_without_dropout():
    model, data = trained_with_dropout()
    before = eval_scale_means(model, data)
    params = [p.detach().clone() for p in model.parameters()]
    model.train()
    settle(model, data.x, data.edge_index, passes=2)
    assert model.training and all(m.training for m in model.modules())  # modes restored
    assert all(m.scaling.experience_momentum == 0.1 for m in model.convs)  # momentum restored
    assert all(torch.equal(p, q) for p, q in zip(params, model.parameters(), strict=True))
    after = eval_scale_means(model, data)
    # trained with dropout, the eval-mode drive of the second layer is off its experience and
    # the relative shape depresses it (measured: mean scale 0.94, 0.59); settled, the
    # experience is the eval-mode one (0.98, 0.81: the rest is the drive's rise over the
    # first steps, which a running-mean trace read against its mean cannot leave at 1)
    assert before[1] < 0.7
    assert all(abs(a - 1) < 0.5 * abs(b - 1) for a, b in zip(after, before, strict=True))
    # each pass is a step of a fixed-point iteration (the trace starts from the experience it
    # replaces) that contracts: every further pass moves the experience less
    moves = []
    for _ in range(3):
        exp = [m.scaling.experience.clone() for m in model.convs]
        settle(model, data.x, data.edge_index, passes=1)
        pairs = zip(model.convs, exp, strict=True)
        moves.append(sum(float((m.scaling.experience - e).abs().mean()) for m, e in pairs))
    assert moves[0] > moves[1] > moves[2] > 0


def test_settle_steps_the_rate_gain_on_eval_spikes():
    data = homophilous_graph(120, 3, 24, binary=True)
    model = SpikingGNN(24, 32, 3, T=6, dropout=0.5, threshold=0.5, target_rate=0.05)
    gain = model.convs[0].rate.log_gain.clone()
    settle(model, data.x, data.edge_index, passes=3)
    assert not torch.equal(model.convs[0].rate.log_gain, gain)
    with pytest.raises(ValueError, match="passes"):
        settle(model, data.x, data.edge_index, passes=0)
