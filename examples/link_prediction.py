"""Link prediction on Cora / CiteSeer: a spiking graph auto-encoder against its GAE twin.

python examples/link_prediction.py                             # Cora, SNN, one seed
python examples/link_prediction.py --model gae --dataset CiteSeer --runs 10
python examples/link_prediction.py --runs 10 --out-dir results/link_prediction   # resumable
"""

from spikegraph.tasks.link_prediction import main

if __name__ == "__main__":
    main()
