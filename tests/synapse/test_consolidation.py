import pytest
import torch

from spikegraph import ASLinear, SpikingASConv
from spikegraph.synapse import SynapticScaling, consolidate, consolidate_updates, scale_gradient


def test_scale_gradient_leaves_the_value_and_scales_the_gradient():
    x = torch.randn(3, 4, requires_grad=True)
    factor = torch.tensor([1.0, 0.5, 0.0, 2.0])
    y = scale_gradient(x, factor)
    torch.testing.assert_close(y, x)
    (y * torch.arange(12.0).view(3, 4)).sum().backward()
    torch.testing.assert_close(x.grad, torch.arange(12.0).view(3, 4) * factor)


def test_memory_adds_the_relative_experience_of_each_task():
    s = SynapticScaling("tent", 4, consolidation=2.0)
    assert s.plasticity() is None  # nothing consolidated yet
    s.experience.copy_(torch.tensor([0.2, 0.4, 0.0, 0.2]))  # mean 0.2
    s.consolidate()
    torch.testing.assert_close(s.memory, torch.tensor([1.0, 2.0, 0.0, 1.0]))
    s.experience.copy_(torch.tensor([0.0, 0.1, 0.1, 0.2]))  # mean 0.1
    s.consolidate()
    torch.testing.assert_close(s.memory, torch.tensor([1.0, 3.0, 1.0, 3.0]))
    torch.testing.assert_close(s.plasticity(), 1 / (1 + 2.0 * s.memory))
    torch.testing.assert_close(s.plasticity(torch.tensor([1, 2])), torch.tensor([1 / 7, 1 / 3]))


def test_unseen_relative_entries_and_a_silent_layer_add_nothing():
    s = SynapticScaling("relative", 3, consolidation=1.0)  # fresh entries are nan
    s.consolidate()
    assert s.plasticity() is None
    s.experience.copy_(torch.tensor([float("nan"), 0.5, 0.5]))
    s.consolidate()
    torch.testing.assert_close(s.memory, torch.tensor([0.0, 1.0, 1.0]))


def test_memory_is_saved_and_loaded_and_reset_with_the_experience():
    s = SynapticScaling("tent", 3, consolidation=1.0)
    s.experience.fill_(0.3)
    s.consolidate()
    fresh = SynapticScaling("tent", None, consolidation=1.0)
    fresh.load_state_dict(s.state_dict())
    torch.testing.assert_close(fresh.memory, torch.ones(3))
    fresh.reset_experience(5)
    assert fresh.plasticity() is None and fresh.memory.shape == (5,)
    assert "memory" not in SynapticScaling("tent", 3).state_dict()  # off: no buffer


def test_bad_settings_raise():
    with pytest.raises(ValueError, match="consolidation must be >= 0"):
        SynapticScaling("tent", consolidation=-1.0)
    with pytest.raises(ValueError, match="needs a scaling shape"):
        SynapticScaling(None, consolidation=1.0)
    with pytest.raises(RuntimeError, match="consolidation > 0"):
        SynapticScaling("tent", 3).consolidate()


def _twins(make):
    torch.manual_seed(0)
    plain, consolidating = make(0.0), make(3.0)
    consolidating.load_state_dict(plain.state_dict(), strict=False)
    return plain, consolidating


def test_as_linear_weight_gradient_is_scaled_per_input_column():
    plain, layer = _twins(lambda c: ASLinear(6, 3, scaling="tent", neuron=None, consolidation=c))
    x = (torch.rand(5, 8, 6) < 0.4).float()
    x[..., 0] = 0.0  # input 0 never fires: nothing to consolidate there
    layer(x)  # one training call writes the experience ...
    plain(x)
    assert consolidate(layer) == 1  # ... which becomes the memory
    pi = layer.scaling.plasticity()
    assert pi[0] == 1.0 and bool((pi[1:] < 1).all())
    x_plain, x_cons = x.clone().requires_grad_(), x.clone().requires_grad_()
    out_plain, out_cons = plain(x_plain), layer(x_cons)
    torch.testing.assert_close(out_cons, out_plain)  # the forward pass is unchanged
    out_plain.square().sum().backward()
    out_cons.square().sum().backward()
    torch.testing.assert_close(layer.weight.grad, plain.weight.grad * pi)
    torch.testing.assert_close(layer.bias.grad, plain.bias.grad)  # no synapse: untouched
    torch.testing.assert_close(x_cons.grad, x_plain.grad * pi)


def _conv(consolidation):
    return SpikingASConv(
        4, 3, scaling="tent", neuron=None, consolidation=consolidation, experience="synapse"
    )


def test_conv_gradient_through_a_uniformly_consolidated_graph_is_scaled_uniformly():
    plain, conv = _twins(_conv)
    edge_index = torch.tensor([[0, 1, 1, 2, 3], [1, 0, 2, 3, 0]])
    x = torch.ones(4, 4, 4)  # every node equally active: every synapse the same experience
    conv(x, edge_index), plain(x, edge_index)
    consolidate(conv)
    torch.testing.assert_close(conv.scaling.plasticity(), torch.full((9,), 0.25))  # 1/(1+3)
    out_plain, out_cons = plain(x, edge_index), conv(x, edge_index)
    torch.testing.assert_close(out_cons, out_plain)
    out_plain.square().sum().backward()
    out_cons.square().sum().backward()
    torch.testing.assert_close(conv.lin.weight.grad, 0.25 * plain.lin.weight.grad)


def test_conv_new_synapses_keep_full_plasticity():
    plain, conv = _twins(_conv)
    old = torch.tensor([[0, 1], [1, 0]])  # task 1: a graph of nodes 0 and 1
    x = torch.rand(4, 4, 4)
    conv(x[:, :2], old), plain(x[:, :2], old)
    consolidate(conv)
    new = torch.tensor([[0, 1, 2], [1, 0, 3]])  # task 2 adds nodes 2, 3 and the edge 2 -> 3
    conv.move_experience(new, 4), plain.move_experience(new, 4)
    x_plain, x_cons = x.clone().requires_grad_(), x.clone().requires_grad_()
    plain.eval(), conv.eval()
    plain(x_plain, new).square().sum().backward()
    conv(x_cons, new).square().sum().backward()
    # node 2's synapses (to 3 and its self-loop) are all new: its gradient is untouched ...
    torch.testing.assert_close(x_cons.grad[:, 2], x_plain.grad[:, 2])
    # ... while nodes 0 and 1 pass theirs through consolidated synapses
    assert x_cons.grad[:, :2].norm() < 0.9 * x_plain.grad[:, :2].norm()


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda p: torch.optim.Adam(p, lr=0.01),
        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
        lambda p: torch.optim.RMSprop(p, lr=0.01),
    ],
    ids=["adam", "sgd", "rmsprop"],
)
def test_consolidated_synapses_move_less_by_their_plasticity_under_any_optimizer(optimizer):
    plain, layer = _twins(lambda c: ASLinear(6, 3, scaling="tent", neuron=None, consolidation=c))
    x = (torch.rand(5, 8, 6) < 0.4).float()
    x[..., 0] = 0.0  # input 0 never fires: its synapses stay free
    layer(x), plain(x)
    consolidate(layer)
    pi = layer.scaling.plasticity()
    opt_plain, opt_cons = optimizer(plain.parameters()), optimizer(layer.parameters())
    hooks = consolidate_updates(opt_cons, layer)
    before = layer.weight.detach().clone()  # equal weights: the same gradient, the same raw step
    for model, opt in ((plain, opt_plain), (layer, opt_cons)):
        opt.zero_grad()
        model(x).square().sum().backward()
        opt.step()
    step_plain, step_cons = plain.weight.detach() - before, layer.weight.detach() - before
    assert bool((step_plain[:, 1:].abs() > 1e-4).all())  # every consolidated column did move
    torch.testing.assert_close(step_cons, step_plain * pi, atol=1e-7, rtol=1e-5)
    hooks.remove()
    assert layer.consolidate_by == "gradient"


def test_without_update_hooks_adam_normalises_a_gradient_factor_away():
    """The reason for the hooks: the gradient path alone does (almost) nothing under Adam."""
    plain, layer = _twins(lambda c: ASLinear(6, 3, scaling="tent", neuron=None, consolidation=c))
    x = (torch.rand(5, 8, 6) < 0.4).float()
    layer(x), plain(x)
    consolidate(layer)
    opts = [torch.optim.Adam(m.parameters(), lr=0.01) for m in (plain, layer)]
    before = layer.weight.detach().clone()
    for model, opt in zip((plain, layer), opts, strict=True):
        opt.zero_grad()
        model(x).square().sum().backward()
        opt.step()
    step_plain = (plain.weight.detach() - before).abs()
    step_cons = (layer.weight.detach() - before).abs()
    torch.testing.assert_close(step_cons, step_plain, atol=1e-6, rtol=1e-3)
