"""Each plugin changes the loss or the forward exactly as documented, on a tiny model."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from spikegraph.continual.plugins import EWC, Compose, Finetune, XdG, make_plugin, xdg_mask

from .conftest import tiny_frames, tiny_model


def _loss(model, data, **kw):
    return F.cross_entropy(model(data.frames.float(), **kw), data.labels)


def _fisher_by_hand(model, data, **kw):
    """Mean of squared per-sample gradients, one backward per sample."""
    model.eval()
    fisher = {n: torch.zeros_like(p) for n, p in model.named_parameters()}
    for i in range(len(data)):
        model.zero_grad()
        F.cross_entropy(
            model(data.frames[i : i + 1].float(), **kw), data.labels[i : i + 1]
        ).backward()
        for n, p in model.named_parameters():
            fisher[n] += p.grad**2
    return {n: f / len(data) for n, f in fisher.items()}


def test_finetune_leaves_the_loss_and_the_forward_unchanged():
    model, data = tiny_model(), tiny_frames()
    plugin = Finetune()
    loss = _loss(model, data)
    plugin.before_task(0, model, data)
    plugin.after_task(0, model, data)
    assert plugin.loss(loss, model) is loss
    assert plugin.forward_kwargs(0) == {}


def test_ewc_penalty_is_half_lambda_fisher_weighted_squared_distance():
    model, data = tiny_model(), tiny_frames(12)
    ewc = EWC(lam=1e4, fisher_samples=100)
    loss = _loss(model, data)
    assert ewc.loss(loss, model) is loss  # nothing to protect before the first task
    ewc.after_task(0, model, data)
    anchor = {n: p.detach().clone() for n, p in model.named_parameters()}
    fisher = _fisher_by_hand(model, data)
    for n in fisher:
        torch.testing.assert_close(ewc.fishers[0][n], fisher[n])
    assert sum(float(f.sum()) for f in fisher.values()) > 0
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    expect = (
        0.5
        * 1e4
        * sum(
            float((fisher[n] * (p.detach() - anchor[n]) ** 2).sum())
            for n, p in model.named_parameters()
        )
    )
    assert expect > 0
    assert ewc.penalty(model).item() == pytest.approx(expect, rel=1e-5)
    assert ewc.loss(loss, model).item() == pytest.approx(loss.item() + expect, rel=1e-5)


def test_ewc_sums_one_penalty_per_earlier_task():
    model, data = tiny_model(), tiny_frames(12)
    ewc = EWC(lam=10.0, fisher_samples=4)
    ewc.after_task(0, model, data)
    first = EWC(lam=10.0, fisher_samples=4)
    first.load_state_dict(ewc.state_dict())
    with torch.no_grad():
        model.layers[0].weight.add_(0.05)
    ewc.after_task(1, model, data)
    with torch.no_grad():
        model.layers[0].weight.add_(0.05)
    second = ewc.penalty(model).item() - first.penalty(model).item()
    expect = 5.0 * sum(
        float((ewc.fishers[1][n] * (p.detach() - ewc.anchors[1][n]) ** 2).sum())
        for n, p in model.named_parameters()
    )
    assert second == pytest.approx(expect, rel=1e-4)


def test_ewc_fisher_leaves_the_experience_untouched():
    model, data = tiny_model(), tiny_frames(12)
    model.train()
    model(data.frames.float())
    before = model.layers[0].scaling.experience.clone()
    EWC(fisher_samples=5).after_task(0, model, data)
    assert torch.equal(model.layers[0].scaling.experience, before)
    assert model.training  # the mode is restored


def test_xdg_keeps_exactly_20_percent_and_differs_between_tasks():
    xdg = XdG([50, 30], keep=0.2, seed=1)
    g0, g1 = xdg.gates(0), xdg.gates(1)
    assert [int(g.sum()) for g in g0] == [10, 6]  # 80 % of each layer is zeroed
    assert [int((g == 0).sum()) for g in g0] == [40, 24]
    assert all(set(g.unique().tolist()) == {0.0, 1.0} for g in g0)
    assert not torch.equal(g0[0], g1[0])
    assert torch.equal(XdG([50, 30], 0.2, seed=1).gates(1)[0], g1[0])  # deterministic
    assert not torch.equal(XdG([50, 30], 0.2, seed=2).gates(0)[0], g0[0])
    assert torch.equal(xdg_mask(50, 0.2, 1, 0, 0), g0[0])
    assert xdg.forward_kwargs(3) == {"gates": xdg.gates(3)}


def test_xdg_gates_multiply_the_hidden_spikes():
    model, data = tiny_model(hidden=20), tiny_frames(8)
    model.eval()
    gates = XdG([20], keep=0.2, seed=0).gates(2)
    x = data.frames.float().flatten(2).transpose(0, 1)
    hidden = model.layers[0](x) * gates[0]
    expect = model.layers[1](hidden).mean(0)  # membrane read-out: the mean output current
    torch.testing.assert_close(model(data.frames.float(), gates=gates), expect)
    assert not torch.allclose(model(data.frames.float()), expect)


def test_xdg_plus_ewc_composes_gates_and_penalty():
    model, data = tiny_model(hidden=20), tiny_frames(12)
    plugin = make_plugin("xdg+ewc", [20], ewc_lambda=100.0, fisher_samples=12, seed=0)
    assert isinstance(plugin, Compose) and plugin.name == "xdg+ewc"
    kw = plugin.forward_kwargs(0)
    plugin.after_task(0, model, data, kw)
    fisher = plugin.plugins[1].fishers[0]["layers.0.weight"]
    off = kw["gates"][0] == 0
    assert float(fisher[off].abs().sum()) == 0.0  # gated-off units get no gradient
    assert float(fisher[~off].sum()) > 0
    with torch.no_grad():
        model.layers[1].weight.add_(0.1)
    loss = _loss(model, data, **kw)
    assert plugin.loss(loss, model).item() == pytest.approx(
        loss.item() + plugin.plugins[1].penalty(model).item(), rel=1e-6
    )


def test_plugin_state_round_trips_and_refuses_other_settings():
    model, data = tiny_model(), tiny_frames(6)
    ewc = EWC(lam=3.0, fisher_samples=3)
    ewc.after_task(0, model, data)
    copy = EWC(lam=3.0, fisher_samples=3)
    copy.load_state_dict(ewc.state_dict())
    assert copy.penalty(model).item() == ewc.penalty(model).item()
    with pytest.raises(ValueError, match="saved for"):
        EWC(lam=4.0, fisher_samples=3).load_state_dict(ewc.state_dict())
    with pytest.raises(ValueError, match="saved for"):
        XdG([20], seed=1).load_state_dict(XdG([20], seed=0).state_dict())


def test_unknown_method_and_bad_settings_are_refused():
    with pytest.raises(ValueError, match="unknown method 'si'"):
        make_plugin("si", [20])
    with pytest.raises(ValueError, match="keep"):
        XdG([20], keep=0.0)
    with pytest.raises(ValueError, match="lam"):
        EWC(lam=-1.0)
