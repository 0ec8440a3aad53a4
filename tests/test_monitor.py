import pytest
import torch
from torch import nn

from spikegraph import LIF, ASLinear, SpikingASConv
from spikegraph.models import SpikingGNN
from spikegraph.monitor import E_AC_PJ, E_MAC_PJ, FiringMonitor, rates_by_degree


class FixedSpikes(nn.Module):
    """A 'model' whose LIF sees currents that give a known spike pattern."""

    def __init__(self):
        super().__init__()
        self.neuron = LIF(decay=0.0, threshold=1.0)

    def forward(self, current):
        return self.neuron(current)


def test_rates_per_step_and_silent_fraction_from_known_spikes():
    # T = 2, 4 neurons: step 0 fires neurons 0 and 1, step 1 fires neuron 0; 2 and 3 stay silent
    current = torch.tensor([[2.0, 2.0, 0.0, 0.0], [2.0, 0.0, 0.0, 0.0]])
    model = FixedSpikes()
    with FiringMonitor(model) as monitor:
        model(current)
    layer = monitor.summary()["layers"]["neuron"]
    assert layer["firing_rate_per_step"] == [0.5, 0.25]
    assert layer["firing_rate"] == pytest.approx(0.375)
    assert layer["silent_fraction"] == 0.5


def test_monitor_does_not_change_outputs_and_hooks_are_removed():
    model = SpikingGNN(5, 8, 3, T=4, threshold=0.3).eval()
    x, ei = torch.rand(6, 5), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    before = model(x, ei)
    with FiringMonitor(model):
        during = model(x, ei)
    assert torch.equal(before, during)
    assert all(not m._forward_hooks for m in model.modules())


def test_sops_count_spikes_times_fan_out_for_a_dense_layer():
    layer = ASLinear(3, 5, scaling=None, neuron=None)
    x = torch.zeros(2, 1, 3)
    x[0, 0, 0] = x[1, 0, 1] = x[1, 0, 2] = 1.0  # three input spikes
    with FiringMonitor(layer) as monitor:
        layer(x)
    s = monitor.summary()
    assert s["sops"] == 3 * 5 and s["macs"] == 0
    assert s["ann_macs"] == 1 * 3 * 5
    assert s["energy_pj"] == pytest.approx(15 * E_AC_PJ)
    assert s["ann_energy_pj"] == pytest.approx(15 * E_MAC_PJ)


def test_graph_layer_counts_aggregation_and_real_valued_input_as_macs():
    conv = SpikingASConv(2, 4, scaling=None)
    ei = torch.tensor([[0, 1], [1, 0]])  # 2 edges + 2 self-loops = 4 synapses
    x = torch.tensor([[[0.5, 0.0], [0.0, 0.0]]] * 3)  # T = 3, one nonzero real input per step
    with FiringMonitor(conv) as monitor:
        conv(x, edge_index=ei)
    s = monitor.summary()
    assert s["sops"] == 0
    assert s["macs"] == 3 * 1 * 4 + 3 * 4 * 4
    assert s["ann_macs"] == 2 * 2 * 4 + 4 * 4


def test_model_without_spiking_parts_is_rejected():
    with pytest.raises(ValueError, match="no spikegraph neurons"):
        FiringMonitor(nn.Linear(2, 2))


def test_per_node_rates_count_spikes_over_steps_channels_and_calls():
    # [T=2, N=3, C=2] currents: node 0 fires 4 of 4 times, node 1 once, node 2 never
    current = torch.zeros(2, 3, 2)
    current[:, 0] = 2.0
    current[0, 1, 0] = 2.0
    model = FixedSpikes()
    with FiringMonitor(model, per_node=True) as monitor:
        model(current)
        model(current)
    rates = monitor.node_rates()["neuron"]
    assert rates.tolist() == [1.0, 0.25, 0.0]


def test_per_node_leaves_the_summary_unchanged_and_needs_opting_in():
    model = SpikingGNN(5, 8, 3, T=4, threshold=0.3).eval()
    x, ei = torch.rand(6, 5), torch.tensor([[0, 1, 2, 3, 4], [1, 2, 3, 4, 5]])
    with FiringMonitor(model) as plain, FiringMonitor(model, per_node=True) as per_node:
        model(x, ei)
    assert plain.summary() == per_node.summary()
    assert per_node.node_rates()["convs.0.neuron"].shape == (6,)
    with pytest.raises(RuntimeError, match="per_node=True"):
        plain.node_rates()


def test_rates_by_degree_bins_nodes_by_degree():
    rates = torch.tensor([0.1, 0.3, 0.2, 0.6, 1.0])
    deg = torch.tensor([1, 1, 2, 5, 9])
    out = rates_by_degree(rates, deg, bins=(1, 2, 4, 8))
    assert out["count"] == [2, 1, 1, 1]
    assert out["rate_mean"] == pytest.approx([0.2, 0.2, 0.6, 1.0])
    assert out["upper"][-1] == float("inf")
    empty = rates_by_degree(rates, deg, bins=(1, 20))
    assert empty["count"] == [5, 0] and empty["rate_mean"][1] != empty["rate_mean"][1]  # nan
    with pytest.raises(ValueError, match="increasing"):
        rates_by_degree(rates, deg, bins=(4, 2))
