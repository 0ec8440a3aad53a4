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
"""

from spikegraph.tasks.ogb_node import main

if __name__ == "__main__":
    main()
