"""A user's own network built from SpikingASConv with default arguments trains: on binary and
on real-valued signed features it beats an edge-blind MLP and its hidden layers keep firing."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from spikegraph import SpikingASConv
from spikegraph.encoders import repeat
from spikegraph.testing import homophilous_graph

EPOCHS = 60


class UserModel(nn.Module):
    """What a new user writes: two default layers, a linear read-out on the mean spikes."""

    def __init__(self, channels: int, classes: int) -> None:
        super().__init__()
        self.conv1 = SpikingASConv(channels, 64)
        self.conv2 = SpikingASConv(64, 64)
        self.out = nn.Linear(64, classes)

    def forward(self, x, edge_index):
        self.h1 = self.conv1(repeat(x, 8), edge_index)
        self.h2 = self.conv2(self.h1, edge_index)
        return self.out(self.h2.mean(0))


def fit(model, forward, data) -> float:
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(EPOCHS):
        model.train()
        opt.zero_grad()
        F.cross_entropy(forward()[data.train_mask], data.y[data.train_mask]).backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        pred = forward().argmax(-1)
    return float((pred[data.test_mask] == data.y[data.test_mask]).float().mean())


@pytest.mark.parametrize("binary", [True, False], ids=["binary", "real-signed"])
def test_default_layers_train_beat_an_mlp_and_keep_firing(binary):
    data = homophilous_graph(binary=binary)
    torch.manual_seed(0)
    snn = UserModel(data.num_features, 5)
    acc = fit(snn, lambda: snn(data.x, data.edge_index), data)
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Linear(data.num_features, 64), nn.ReLU(), nn.Linear(64, 5))
    mlp_acc = fit(mlp, lambda: mlp(data.x), data)
    assert acc > 0.6  # chance is 0.2
    assert acc > mlp_acc + 0.1
    for h in (snn.h1, snn.h2):  # eval pass: the hidden layers did not fall silent
        assert 0.02 < float(h.mean()) < 0.9
