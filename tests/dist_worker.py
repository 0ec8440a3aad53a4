"""One rank of the multi-process tests (not collected by pytest: no ``test_`` prefix).

``python tests/dist_worker.py scenarios OUT_DIR`` with ``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT`` set (as torchrun sets them) joins a gloo group, runs every scenario below and
saves what it observed to ``OUT_DIR/rank{RANK}.pt`` for ``tests/test_distributed.py`` to judge.

``torchrun ... tests/dist_worker.py fault R S EXAMPLE_ARGS...`` instead runs
``examples/ogbn_arxiv.py`` and, in the first attempt only (``TORCHELASTIC_RESTART_COUNT=0``),
kills rank ``R`` with SIGKILL as it enters its ``S``-th training step (counting from 1).
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch_geometric.data import Data
from torch_geometric.loader import NeighborLoader
from torch_geometric.utils import to_undirected

from spikegraph.distributed import (
    _FORWARD_BUFFER_SYNC_ARG,
    DistContext,
    init_distributed,
    out_of_sync,
    sync_experience,
    wrap_model,
)
from spikegraph.models import SpikingGNN
from spikegraph.nn import ASLinear
from spikegraph.synapse import TargetRate
from spikegraph.tasks import minibatch
from spikegraph.tasks.minibatch import (
    build_minibatch_model,
    global_gcn_graph,
    train_minibatch_epoch,
    train_step,
)
from spikegraph.tasks.node_classification import Config

#: The one batch of the equivalence scenario and its fixed split: each rank's seeds reach every
#: node of their component within one hop (hubs 0 and 1 in A = 0..11, hub 12 in B = 12..19), so
#: with full neighbourhoods every rank's subgraph holds each synapse's presynaptic activity
#: completely. Rank 1 alone sees component B; 3 and 4 seeds: the shares differ in size.
SPLIT = ([0, 3, 5], [1, 12, 14, 16])


def hub_graph() -> Data:
    edges = [(h, v) for h in (0, 1) for v in range(12) if v != h]
    edges += [(12, v) for v in range(13, 20)]
    edges += [(2, 3), (4, 7), (8, 11), (13, 16), (15, 19)]
    edge_index = to_undirected(torch.tensor(edges).t(), num_nodes=20)
    x = (torch.rand(20, 8) < 0.5).float()
    data = Data(x=x, edge_index=edge_index, y=torch.randint(0, 3, (20,)), num_nodes=20)
    return global_gcn_graph(data)


def one_batch(data: Data, seeds: list[int]) -> Data:
    loader = NeighborLoader(
        data, num_neighbors=[-1, -1], input_nodes=torch.tensor(seeds), batch_size=len(seeds)
    )
    return next(iter(loader))


def one_step(ctx: DistContext) -> dict:
    """Rank r trains one SGD step on SPLIT[r]; rank 0 also on the whole batch in one process."""
    torch.manual_seed(0)
    data = hub_graph()
    cfg = Config(hidden=16, T=4, dropout=0.0)
    model = build_minibatch_model(cfg, data, 3)
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    ddp = wrap_model(model)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    global_size = sum(len(s) for s in SPLIT)
    train_step(ddp, one_batch(data, SPLIT[ctx.rank]), opt, global_size, ctx.world_size)
    out = {"initial": initial, "state": model.state_dict(), "in_sync": out_of_sync(model)}
    if ctx.is_main:
        single = build_minibatch_model(cfg, data, 3)
        single.load_state_dict(initial)
        opt = torch.optim.SGD(single.parameters(), lr=1.0)
        train_step(single, one_batch(data, SPLIT[0] + SPLIT[1]), opt)
        out["single"] = single.state_dict()
        out["num_edges"] = data.num_edges
        out["edge_index"] = data.edge_index
    return out


def community_graph() -> Data:
    n = 160
    y = torch.arange(n) % 2
    src, dst = torch.randint(0, n, (2, 1600))
    keep = y[src] == y[dst]
    edge_index = to_undirected(torch.stack([src[keep], dst[keep]]), num_nodes=n)
    x = (torch.rand(n, 16) < 0.2).float()
    data = Data(x=x, edge_index=edge_index, y=y, num_nodes=n)
    data.train_mask = torch.rand(n) < 0.6
    return global_gcn_graph(data)


def training(ctx: DistContext, synced: bool) -> dict:
    """Two epochs of sampled mini-batches with dropout; without ``synced`` plain DDP with buffer
    broadcasts off and no ExperienceSync (the failure the sync prevents)."""
    torch.manual_seed(0)
    data = community_graph()
    model = build_minibatch_model(Config(hidden=16, T=4, dropout=0.2), data, 2)
    initial = model.convs[0].scaling.experience.clone()
    net = (
        wrap_model(model)
        if synced
        else DistributedDataParallel(model, **{_FORWARD_BUFFER_SYNC_ARG: False})
    )
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    torch.manual_seed(100 + ctx.rank)  # dropout and sampling differ between the ranks
    for epoch in range(2):
        order = torch.Generator().manual_seed(epoch)
        train_minibatch_epoch(
            net, data, opt, batch_size=12, num_neighbors=(4, 4), generator=order, ctx=ctx
        )
    return {"initial": initial, "state": model.state_dict(), "out_of_sync": out_of_sync(model)}


def dense(ctx: DistContext) -> dict:
    """ASLinear (no synapse ids): rank r feeds 2 + 3r samples; rank 0 also all 7 at once."""
    torch.manual_seed(0)
    layer = ASLinear(6, 3)
    x = torch.rand(5, 7, 6)  # [T, B, C]
    parts = (x[:, :2], x[:, 2:])
    sync_experience(layer)
    layer.train()
    layer(parts[ctx.rank])
    out = {"experience": layer.scaling.experience.clone()}
    if ctx.is_main:
        single = ASLinear(6, 3)
        single.train()
        single(x)
        out["single"] = single.scaling.experience.clone()
    return out


def rate_control(ctx: DistContext, synced: bool) -> list[torch.Tensor]:
    """A full-graph model with an expected firing rate; rank 1 sees denser input, so its own
    firing differs from rank 0's. Returns every controller's log-gain after three steps."""
    torch.manual_seed(0)
    model = SpikingGNN(6, 8, 2, T=4, dropout=0.0, scaling=None, target_rate=0.1)
    net = (
        wrap_model(model)
        if synced
        else DistributedDataParallel(model, **{_FORWARD_BUFFER_SYNC_ARG: False})
    )
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    g = torch.Generator().manual_seed(ctx.rank)
    x = (torch.rand(20, 6, generator=g) < 0.2 + 0.4 * ctx.rank).float()
    edges = torch.randint(0, 20, (2, 60), generator=torch.Generator().manual_seed(7))
    for _ in range(3):
        opt.zero_grad()
        net(x, edges).square().mean().backward()
        opt.step()
    return [m.log_gain.clone() for m in model.modules() if isinstance(m, TargetRate)]


def detects_divergence(ctx: DistContext) -> list[str]:
    torch.manual_seed(0)
    layer = ASLinear(4, 2)
    if ctx.rank == 1:
        with torch.no_grad():
            layer.bias[0] += 1e-7
    return out_of_sync(layer)


def scenarios(out_dir: Path) -> None:
    ctx = init_distributed("gloo")
    torch.set_num_threads(1)
    results = {
        "world_size": ctx.world_size,
        "one_step": one_step(ctx),
        "training": training(ctx, synced=True),
        "unsynced": training(ctx, synced=False),
        "dense": dense(ctx),
        "rate": rate_control(ctx, synced=True),
        "rate_unsynced": rate_control(ctx, synced=False),
        "divergence": detects_divergence(ctx),
    }
    torch.save(results, out_dir / f"rank{ctx.rank}.pt")
    dist.destroy_process_group()


def example_with_fault(kill_rank: int, kill_step: int, argv: list[str]) -> None:
    first_attempt = os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0"
    if first_attempt and int(os.environ["RANK"]) == kill_rank:
        real_step, calls = minibatch.train_step, [0]

        def dying_step(*args, **kwargs):
            calls[0] += 1
            if calls[0] == kill_step:
                os.kill(os.getpid(), signal.SIGKILL)
            return real_step(*args, **kwargs)

        minibatch.train_step = dying_step
    from spikegraph.tasks.ogb_node import main

    main(argv)


if __name__ == "__main__":
    if sys.argv[1] == "scenarios":
        scenarios(Path(sys.argv[2]))
    elif sys.argv[1] == "fault":
        example_with_fault(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:])
    else:
        raise SystemExit(f"unknown mode {sys.argv[1]!r}")
