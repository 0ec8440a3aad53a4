"""``to_hetero`` on a model built from SpikingASConv: one layer copy per relation (each with its
own per-synapse experience), the relations' currents summed per node type before its neuron."""

import pytest
import torch
from torch import nn
from torch_geometric.data import HeteroData
from torch_geometric.nn import to_hetero

from spikegraph import SpikingASConv
from spikegraph.encoders import repeat
from spikegraph.neurons import LIF

T = 4
CITES = ("paper", "cites", "paper")
WRITES = ("author", "writes", "paper")
WRITTEN_BY = ("paper", "written_by", "author")


@pytest.fixture()
def data():
    data = HeteroData()
    data["paper"].x = torch.rand(10, 8)
    data["author"].x = torch.rand(6, 5)  # another feature size: lazy in_channels=-1
    data[CITES].edge_index = torch.randint(0, 10, (2, 20))
    writes = torch.stack([torch.randint(0, 6, (15,)), torch.randint(0, 10, (15,))])
    data[WRITES].edge_index = writes
    data[WRITTEN_BY].edge_index = writes.flip(0)
    return data


class Net(nn.Module):
    """Currents of every relation are summed (to_hetero's aggr="sum"), then one LIF per node
    type spikes: the layers therefore return currents (neuron=None)."""

    def __init__(self, **conv_kwargs):
        super().__init__()
        kwargs = {"normalize": False, "add_self_loops": False, "neuron": None, **conv_kwargs}
        kwargs.setdefault("experience", "synapse")  # each relation names its own synapses
        self.conv1 = SpikingASConv(-1, 16, **kwargs)
        self.lif = LIF()
        self.conv2 = SpikingASConv(16, 3, **kwargs)

    def forward(self, x, edge_index):
        h = self.lif(self.conv1(x, edge_index))
        return self.conv2(h, edge_index).mean(0)


def _inputs(data):
    return {k: repeat(v, T) for k, v in data.x_dict.items()}, data.edge_index_dict


def test_to_hetero_trains_and_sums_the_relations_before_the_neuron(data):
    model = to_hetero(Net(), data.metadata())
    x, ei = _inputs(data)
    with torch.no_grad():
        model(x, ei)  # sizes the lazy layers
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(3):
        out = model(x, ei)
        loss = sum(o.square().mean() for o in out.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
    writes = model.conv1.author__writes__paper
    assert writes.synapses.shape == (2, 15)  # the relation named its own synapses ...
    assert not writes.scaling.experience.isnan().any()  # ... and learnt their experience
    model.eval()
    out = model(x, ei)
    c1, c2 = model.conv1, model.conv2
    xp, xa = x["paper"], x["author"]
    paper = c1.paper__cites__paper(xp, ei[CITES]) + writes((xa, xp), ei[WRITES])
    author = c1.paper__written_by__author((xp, xa), ei[WRITTEN_BY])
    hp, ha = model.lif.paper(paper), model.lif.author(author)
    ref = c2.paper__cites__paper(hp, ei[CITES])
    ref = ref + c2.author__writes__paper((ha, hp), ei[WRITES])
    assert out["paper"].shape == (10, 3) and out["author"].shape == (6, 3)
    torch.testing.assert_close(out["paper"], ref.mean(0))


def test_to_hetero_with_gcn_normalisation_across_node_types_raises(data):
    model = to_hetero(Net(normalize=True), data.metadata())
    with pytest.raises(ValueError, match="normalize=False and add_self_loops=False"):
        model(*_inputs(data))


def test_to_hetero_refuses_self_loops_across_node_types(data):
    with pytest.raises(ValueError, match="'add_self_loops' attribute set to 'True'"):
        to_hetero(Net(add_self_loops=True), data.metadata())  # PyG's own check
