"""SpikeGCL: feature-partitioned spike trains, the contrastive objective, the linear probe."""

import pytest
import torch
import torch.nn.functional as F

from spikegraph.models import SpikeGCL, linear_probe, train_spikegcl
from spikegraph.models.spikegcl import byte_dropout
from spikegraph.testing import assert_spikes, homophilous_graph

EDGES = torch.tensor([[0, 1, 1, 2, 2, 3, 3, 4], [1, 0, 2, 1, 3, 2, 4, 3]])


def test_shapes_of_scores_spikes_and_embeddings():
    model = SpikeGCL(10, 6, T=4)
    x = torch.rand(5, 10)
    positive, negative = model(x, EDGES)
    assert positive.shape == negative.shape == (4, 5)  # [T, N]
    spikes = model.encode(x, EDGES)
    assert spikes.shape == (4, 5, 6)
    assert_spikes(spikes)
    assert model.embed(x, EDGES).shape == (5, 4 * 6)
    assert model.group == 3  # ceil(10 / 4) columns per step, the last group padded


def test_sparse_group_projection_equals_the_dense_per_group_layers():
    torch.manual_seed(0)
    model = SpikeGCL(11, 5, T=3, dropout=0.0)
    x = (torch.rand(20, 11) < 0.3).float() * torch.rand(20, 11)
    perm = torch.randperm(11)
    dense = model.input_norm(x[:, perm])  # training mode: batch statistics
    dense = F.pad(dense, (0, 1)).view(20, 3, 4).transpose(0, 1)
    expected = torch.baddbmm(model.group_bias, dense, model.group_weight)
    model.input_norm.reset_running_stats()
    torch.testing.assert_close(model.project_groups(x, perm), expected, atol=1e-5, rtol=1e-5)


def test_gradients_reach_every_parameter():
    torch.manual_seed(0)
    model = SpikeGCL(12, 8, T=3, threshold=0.01)
    model.loss(*model(torch.rand(5, 12), EDGES)).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and float(p.grad.abs().sum()) > 0, name


def test_pretraining_separates_the_true_view_from_the_corrupted_one():
    data = homophilous_graph(validation=True)
    torch.manual_seed(0)
    model = SpikeGCL(32, 16, T=4)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(60):
        opt.zero_grad()
        loss = model.loss(*model(data.x, data.edge_index))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert sum(losses[-10:]) / 10 < 0.6 * sum(losses[:3]) / 3  # margin violations shrink
    model.eval()
    with torch.no_grad():
        positive, negative = model(data.x, data.edge_index)
    assert float((positive > negative).float().mean()) > 0.65  # untrained: 0.52


@pytest.mark.slow
def test_learns_a_toy_graph_beyond_its_features():
    data = homophilous_graph(validation=True)
    _, raw_test = linear_probe(data.x, data)  # the features alone: about 0.72
    val, test = train_spikegcl(data, hidden=16, T=4, lr=0.01, epochs=20, eval_every=10)
    assert test > max(0.9, raw_test + 0.1)
    assert val > 0.9


def test_scaling_plugs_into_both_graph_layers_and_learns_experience():
    off, on = SpikeGCL(12, 8, T=3), SpikeGCL(12, 8, T=3, scaling="relative")
    assert not off.conv1.scaling.enabled and not off.conv2.scaling.enabled
    assert on.conv1.scaling.enabled and on.conv2.scaling.enabled
    before = on.conv2.scaling.experience.clone()
    on(torch.rand(5, 12), EDGES)  # a training call: the true view updates the experience
    after = on.conv2.scaling.experience
    assert after.shape == (1,)  # cached=False: the layer-level (inductive) experience
    assert before.numel() == 0 or not torch.equal(before, after)
    assert bool((after > 0).all())


def test_negative_view_leaves_the_experience_alone():
    model = SpikeGCL(12, 8, T=3, scaling="relative")
    x = torch.rand(5, 12)
    model.encode(x, EDGES)  # names the synapses
    state = {k: v.clone() for k, v in model.state_dict().items()}
    torch.manual_seed(1)
    model.encode(x, EDGES)  # the true view alone
    expected = [model.conv1.scaling.experience.clone(), model.conv2.scaling.experience.clone()]
    model.load_state_dict(state)
    torch.manual_seed(1)
    model(x, EDGES)  # the same true view, then the corrupted one
    torch.testing.assert_close(model.conv1.scaling.experience, expected[0])
    torch.testing.assert_close(model.conv2.scaling.experience, expected[1])


def test_target_rate_moves_the_spiking_layer_toward_its_rate():
    data = homophilous_graph()
    model = SpikeGCL(32, 16, T=4, threshold=0.5, target_rate=0.05)
    with torch.no_grad():
        for _ in range(30):
            model.encode(data.x, data.edge_index)
        rate = float(model.encode(data.x, data.edge_index).mean())
    free = SpikeGCL(32, 16, T=4, threshold=0.5)
    with torch.no_grad():
        free_rate = float(free.encode(data.x, data.edge_index).mean())
    assert free_rate > 0.15  # free, the layer fires far above the target
    assert abs(rate - 0.05) < 0.03


def test_byte_dropout_is_unbiased_and_drops_its_fraction():
    x = torch.ones(200_000)
    out = byte_dropout(x, 0.4, True)
    assert abs(float((out == 0).float().mean()) - 102 / 256) < 0.01
    assert abs(float(out.mean()) - 1.0) < 0.01
    assert byte_dropout(x, 0.4, False) is x


def test_bad_input_raises_clear_errors():
    with pytest.raises(ValueError, match="in_channels .* must be >= T"):
        SpikeGCL(3, 8, T=4)
    with pytest.raises(ValueError, match="x must be node features"):
        SpikeGCL(10, 8, T=4).encode(torch.rand(5, 9), EDGES)
