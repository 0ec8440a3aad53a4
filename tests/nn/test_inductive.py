"""The inductive (layer-level) experience of SpikingASConv: many graphs in one batch, graphs never
seen in training, and the fixed point its docstring states."""

import pytest
import torch
from torch_geometric.data import Batch, Data
from torch_geometric.loader import DataLoader

from spikegraph import SpikingASConv, repeat
from spikegraph.synapse import SynapticScaling

T = 4


def _graph(n: int, seed: int) -> Data:
    g = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, 5, generator=g) < 0.4).float()
    edge_index = torch.randint(0, n, (2, 3 * n), generator=g)
    return Data(x=x, edge_index=edge_index[:, edge_index[0] != edge_index[1]])


def _trained(conv: SpikingASConv, graphs: list[Data]) -> SpikingASConv:
    opt = torch.optim.SGD(conv.parameters(), lr=0.1)
    for batch in DataLoader(graphs, batch_size=3, shuffle=True):
        opt.zero_grad()
        conv(repeat(batch.x, T), batch.edge_index).mean().backward()
        opt.step()
    return conv.eval()


def test_default_layer_is_inductive_and_cached_layer_is_transductive():
    assert SpikingASConv(5, 3).experience_mode() == "layer"
    assert SpikingASConv(5, 3, cached=True).experience_mode() == "synapse"
    assert SpikingASConv(5, 3).experience_mode(e_id=torch.arange(4)) == "synapse"
    with pytest.raises(ValueError, match="unknown experience"):
        SpikingASConv(5, 3, experience="edge")


def test_a_batch_of_graphs_gives_each_graph_its_own_outputs():
    graphs = [_graph(n, seed) for seed, n in enumerate([6, 9, 4, 7, 8, 5])]
    conv = _trained(SpikingASConv(5, 4, neuron=None), graphs)
    assert conv.scaling.experience.shape == (1,)  # one shared entry, no per-synapse state
    batch = Batch.from_data_list(graphs[:4])
    with torch.no_grad():
        together = conv(repeat(batch.x, T), batch.edge_index)
        alone = torch.cat([conv(repeat(g.x, T), g.edge_index) for g in graphs[:4]], 1)
    torch.testing.assert_close(together, alone)


def test_a_trained_layer_runs_on_an_unseen_graph_and_reads_its_experience():
    conv = _trained(SpikingASConv(5, 4, neuron=None), [_graph(8, s) for s in range(6)])
    reference = float(conv.scaling.experience)
    unseen = _graph(11, seed=99)
    plain = SpikingASConv(5, 4, neuron=None, scaling=None).eval()
    plain.load_state_dict(conv.state_dict(), strict=False)
    with torch.no_grad():
        out = conv(repeat(unseen.x, T), unseen.edge_index)
        # the same experience read by hand: scales are f(x/e) with the trained reference
        conv.scaling.experience.fill_(reference * 4)  # every edge now looks quiet: potentiated
        quiet = conv(repeat(unseen.x, T), unseen.edge_index)
        unscaled = plain(repeat(unseen.x, T), unseen.edge_index)
    assert out.shape == (T, 11, 4)
    gain = (quiet - conv.bias).abs().sum() / (unscaled - plain.bias).abs().sum()
    assert gain > 1.2  # potentiation: quiet edges scale above 1 (at most f_max = 2)


def _solve_reference(drives: torch.Tensor, alpha: float) -> float:
    """The documented fixed point: mean_e sigma_e (1 + a) / (1 + sigma_e a) = 1, sigma = c / e."""
    lo, hi = 1e-4, 10.0
    for _ in range(100):
        e = (lo + hi) / 2
        s = drives / e
        if float((s * (1 + alpha) / (1 + s * alpha)).mean()) > 1:
            lo = e
        else:
            hi = e
    return (lo + hi) / 2


@pytest.mark.parametrize("drives", [[0.2, 0.2], [0.1, 0.3], [0.05, 0.1, 0.3]])
def test_the_shared_experience_settles_at_the_documented_fixed_point(drives):
    c = torch.tensor(drives).repeat_interleave(4)  # groups of 4 synapses per drive
    scaling = SynapticScaling("relative", experience_momentum=0.5)
    for _ in range(60):
        scaling(c.expand(400, -1), shared=True)
    expected = _solve_reference(c, alpha=1.0)
    assert float(scaling.experience) == pytest.approx(expected, rel=0.02)
    if len(set(drives)) == 1:  # a uniform drive: the reference is the drive, every scale 1
        assert expected == pytest.approx(drives[0], rel=1e-3)


def test_a_per_synapse_buffer_is_not_read_as_a_shared_one():
    scaling = SynapticScaling("relative", num_synapses=6)
    with pytest.raises(ValueError, match="shared .layer-level. experience has one entry"):
        scaling(torch.rand(3, 6), shared=True)
