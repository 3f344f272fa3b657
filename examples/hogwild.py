"""Hogwild!: several processes train one model whose parameters live in shared memory (the reference docs'
multiprocessing example), on the MNIST sample shipped with the repository.

Each process draws its own minibatches and updates the shared parameters without locks. The main process
checks the loss fell and that every worker saw parameters changed by the others.

usage: python examples/hogwild.py [--processes 4] [--epochs 2] [--quick]
"""
import argparse
import os

import ember as torch
import ember.multiprocessing as mp
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.autograd import Variable
from ember.utils.data import DataLoader

from mnist import load_sample  # the same shipped sample and normalisation as the main job

HERE = os.path.dirname(os.path.abspath(__file__))


class Net(nn.Module):
    def __init__(self):
        super(Net, self).__init__()
        self.fc1 = nn.Linear(784, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.relu(self.fc1(x.view(-1, 784)))
        return F.log_softmax(self.fc2(x))


def checksum(model):
    return sum(float(p.data.double().sum()) for p in model.parameters())


def train(rank, args, model, dataset, report):
    torch.set_num_threads(1)  # one core per worker
    torch.manual_seed(args.seed + rank)
    loader = DataLoader(dataset, batch_size=64, shuffle=True)
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=0.5)
    start = checksum(model)
    for _ in range(args.epochs):
        for data, target in loader:
            optimizer.zero_grad()
            loss = F.nll_loss(model(Variable(data)), Variable(target))
            loss.backward()
            optimizer.step()
    report.put((rank, start, checksum(model), float(loss.data[0])))


def evaluate(model, dataset):
    output = model(Variable(dataset.data_tensor, volatile=True))
    return float(F.nll_loss(output, Variable(dataset.target_tensor, volatile=True)).data[0])


def main(argv=None):
    parser = argparse.ArgumentParser(description="Hogwild training on the MNIST sample (ember)")
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    n_train, n_val = (2000, 500) if args.quick else (8000, 2000)
    train_set, val_set = load_sample(n_train, n_val)
    model = Net()
    model.share_memory()  # gradients stay per process; parameters are shared
    initial_loss = evaluate(model, val_set)
    initial_sum = checksum(model)
    ctx = mp.get_context("fork")
    report = ctx.Queue()
    workers = [ctx.Process(target=train, args=(rank, args, model, train_set, report))
               for rank in range(args.processes)]
    for w in workers:
        w.start()
    results = sorted(report.get(timeout=600) for _ in workers)
    for w in workers:
        w.join()
    final_loss = evaluate(model, val_set)
    for rank, start, end, loss in results:
        print("worker {}: parameter checksum {:.4f} -> {:.4f}, last minibatch loss {:.4f}".format(
            rank, start, end, loss))
    print("validation loss {:.4f} -> {:.4f} (model trained in {} processes, parameters shared)".format(
        initial_loss, final_loss, args.processes))
    if not final_loss < initial_loss:
        raise SystemExit("the loss did not fall")
    if checksum(model) == initial_sum or any(end == start for _, start, end, _ in results):
        raise SystemExit("the shared parameters did not change in every process")
    return initial_loss, final_loss, results


if __name__ == "__main__":
    main()
