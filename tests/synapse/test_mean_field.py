"""The mean-field control: the relative shape's per-synapse scale averaged over a layer's
synapses at every step."""

import torch

from spikegraph import SpikingASConv, repeat
from spikegraph.synapse import MeanField, SynapticScaling, get_scaling


def test_mean_field_scale_is_the_per_step_mean_of_the_per_synapse_scale():
    drive = torch.rand(6, 2, 9)  # [T, batch, K]
    per_edge = SynapticScaling("relative").eval()
    pooled = SynapticScaling("mean_field").eval()
    expected = per_edge(drive).mean(-1, keepdim=True).expand(6, 2, 9)
    torch.testing.assert_close(pooled(drive), expected)
    assert float(per_edge(drive).std(-1).max()) > 0.05  # the per-edge scale does vary


def test_mean_field_is_selectable_by_name_and_learns_like_relative():
    assert isinstance(get_scaling("mean_field"), MeanField)
    x = repeat((torch.rand(7, 4) < 0.5).float(), 5)
    edges = torch.randint(0, 7, (2, 20))
    conv, twin = SpikingASConv(4, 3, scaling="mean_field"), SpikingASConv(4, 3)
    twin.load_state_dict(conv.state_dict())
    conv(x, edges), twin(x, edges)  # the same training call updates the same experience
    torch.testing.assert_close(conv.scaling.experience, twin.scaling.experience)
