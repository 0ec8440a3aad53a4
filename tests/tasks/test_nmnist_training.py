"""The N-MNIST training recipe: validation split, resumable checkpoints, loading a model."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from spikegraph.events.training import FrameSet
from spikegraph.tasks.nmnist_training import (
    ModelConfig,
    build_model,
    fit,
    load_trained,
    split_validation,
)

CFG = ModelConfig(hidden=8, n_frames=3, epochs=2, batch_size=5, lr=1e-2, scaling="relative")


def _data(n: int = 20) -> FrameSet:
    frames = (torch.rand(n, 3, 2, 3, 3) < 0.3).to(torch.uint8)
    return FrameSet(frames, torch.arange(n) % 10, "toy")


def test_validation_split_is_disjoint_fixed_and_complete():
    data = _data()
    data.frames[:, 0, 0, 0, 0] = torch.arange(20, dtype=torch.uint8)  # tag each sample
    train, val = split_validation(data, 6)
    tags = lambda s: s.frames[:, 0, 0, 0, 0].tolist()  # noqa: E731
    assert len(train) == 14 and len(val) == 6
    assert sorted(tags(train) + tags(val)) == list(range(20))
    assert tags(split_validation(data, 6)[1]) == tags(val)  # same split every call
    with pytest.raises(ValueError, match="n_val"):
        split_validation(data, 20)


def test_build_model_switches_scaling_only():
    scaled, base = build_model(CFG, "scaling", 18), build_model(CFG, "baseline", 18)
    assert scaled.layers[0].scaling.enabled and not base.layers[0].scaling.enabled
    with pytest.raises(ValueError, match="model must be"):
        build_model(CFG, "other", 18)


def test_the_mean_field_control_averages_the_scaling_models_synapse():
    control, scaled = (
        build_model(CFG, m, 18).layers[0].scaling.shape for m in ("mean_field", "scaling")
    )
    assert control.pooled and not scaled.pooled  # one scale per step for the whole layer
    assert control.alpha == scaled.alpha  # of the same relative synapse
    with pytest.raises(ValueError, match="no mean-field form"):
        build_model(replace(CFG, scaling="tent"), "mean_field", 18)


def test_interrupted_run_resumes_to_the_same_model(tmp_path):
    data = _data()
    whole, history = fit(CFG, "scaling", 0, data, progress=False)

    def stop_after_first(h):
        if len(h) == 1:
            raise KeyboardInterrupt

    ckpt = tmp_path / "scaling_seed0.pt"
    with pytest.raises(KeyboardInterrupt):
        fit(CFG, "scaling", 0, data, checkpoint=ckpt, progress=False, on_epoch=stop_after_first)
    with pytest.raises(ValueError, match="holds 1 of 2 epochs"):
        load_trained(ckpt)
    resumed, resumed_history = fit(CFG, "scaling", 0, data, checkpoint=ckpt, progress=False)
    assert [h["loss"] for h in resumed_history] == [h["loss"] for h in history]
    for key, value in whole.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[key], value, equal_nan=True)
    loaded, meta = load_trained(ckpt)
    frames = data.frames.float()
    torch.testing.assert_close(loaded(frames), whole.eval()(frames))
    assert meta["model"] == "scaling" and len(meta["history"]) == 2


def test_checkpoint_of_other_settings_is_refused(tmp_path):
    ckpt = tmp_path / "baseline_seed0.pt"
    fit(CFG, "baseline", 0, _data(), checkpoint=ckpt, progress=False)
    other = ModelConfig(**{**CFG.__dict__, "lr": 1e-3})
    with pytest.raises(ValueError, match="lr: saved 0.01, now 0.001"):
        fit(other, "baseline", 0, _data(), checkpoint=ckpt, progress=False)
