"""ogbn-arxiv (or any OGB node dataset in OGB's raw layout) with a spiking GNN, OGB's protocol.

Official split, symmetric graph, ``--runs`` seeds, test score at best validation from ogb's
``Evaluator``, mean ± std. Needs ``pip install 'spikegraph[ogb]'``.

python examples/ogbn_arxiv.py                              # downloads ogbn-arxiv (internet)
python examples/ogbn_arxiv.py --model gcn --runs 10        # the ANN GCN, same pipeline
python examples/ogbn_arxiv.py --name ogbn-cora --root ../shared/datasets/ogbn_cora_derived \
    --meta ../shared/datasets/ogbn_cora_derived/meta_dict.json --epochs 200 --runs 3   # offline
python -m spikegraph.datasets.synthetic --out /data/arxiv_like                # arxiv-sized stand-in
python examples/ogbn_arxiv.py --name ogbn-arxiv-synthetic --root /data/arxiv_like \
    --meta /data/arxiv_like/meta_dict.json

Mini-batches (NeighborLoader, per-edge experience at global edge ids), in one process or
data-parallel over the processes torchrun starts (docs/guides/distributed.md):

python examples/ogbn_arxiv.py --minibatch --batch-size 1024 --num-neighbors 10 10 ...
export TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1  # restarts reconnect reliably (pytorch#135712)
torchrun --standalone --nproc-per-node=2 --max-restarts=3 examples/ogbn_arxiv.py \
    --minibatch --distributed --checkpoint runs/arxiv.pt --resume ...
torchrun --nnodes=2 --nproc-per-node=2 --rdzv-backend=c10d --rdzv-endpoint=HOST:29400 \
    --rdzv-id=arxiv-1 examples/ogbn_arxiv.py --minibatch --distributed ...   # on every machine
"""

from spikegraph.tasks.ogb_node import main

if __name__ == "__main__":
    main()
