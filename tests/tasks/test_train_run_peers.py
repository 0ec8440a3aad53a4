"""The node classification pipeline with any model: evaluation every k epochs, one optimiser
group for a model without ``convs``, firing statistics of every model with spiking neurons."""

import torch

from spikegraph.models import GCN, GCSNN, SpikingGCN
from spikegraph.tasks.node_classification import Config, measure_firing, param_groups, train_run
from spikegraph.testing import homophilous_graph


def test_eval_every_keeps_only_evaluated_epochs_and_the_last():
    data = homophilous_graph(num_nodes=60, validation=True)
    model = GCN(data.num_features, 8, 5, cached=True)
    cfg = Config(model="gcn", epochs=7, eval_every=3, patience=0)
    result = train_run(model, data, cfg, seed=0, progress=False)
    assert result.best_epoch in (3, 6, 7)
    assert result.epochs_run == 7


def test_a_model_without_convs_gets_one_group_with_every_parameter():
    model = SpikingGCN(6, 8, 3, K=1, T=2)
    groups = param_groups(model, Config())
    assert len(groups) == 1
    assert {id(p) for p in groups[0]["params"]} == {id(p) for p in model.parameters()}


def test_firing_is_measured_for_every_model_with_spiking_neurons():
    data = homophilous_graph(num_nodes=40)
    torch.manual_seed(0)
    firing = measure_firing(GCSNN(data.num_features, 8, 5, T=3), data)
    assert firing is not None and set(firing["layers"]) == {"stages.0.neuron", "stages.1.neuron"}
    assert 0.0 < firing["firing_rate_mean"] < 1.0
    assert measure_firing(GCN(data.num_features, 8, 5), data) is None
