"""ember's main job: train a LeNet-style network on the MNIST sample shipped with the repository.

PyTorch-0.2-style code (`import ember as torch`, `import embervision as torchvision`). The sample is the real
MNIST t10k set (examples/data/mnist/raw): its first 8,000 images train, the last 2,000 validate. Prints a
progress bar per epoch and the validation accuracy, saves the model with ember.save and writes a grid of
validation digits with the wrong predictions marked in red.

On a machine with a GPU (CuPy) it trains there, as the 0.2 example did; --no-cuda keeps it on the CPU.

usage: python examples/mnist.py [--epochs N] [--quick] [--no-cuda] [--out DIR]
"""
import argparse
import os
import sys
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.optim.lr_scheduler import MultiStepLR
import embervision
from ember.autograd import Variable
from ember.utils.data import DataLoader, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))
MEAN, STD = 0.1307, 0.3081  # the MNIST normalisation of the PyTorch examples


class Net(nn.Module):
    """The network of PyTorch 0.2's MNIST example."""

    def __init__(self):
        super(Net, self).__init__()
        self.conv1 = nn.Conv2d(1, 10, kernel_size=5)
        self.conv2 = nn.Conv2d(10, 20, kernel_size=5)
        self.conv2_drop = nn.Dropout2d()
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2_drop(self.conv2(x)), 2))
        x = x.view(-1, 320)
        x = F.relu(self.fc1(x))
        x = F.dropout(x, training=self.training)
        x = self.fc2(x)
        return F.log_softmax(x)


def load_sample(n_train, n_val):
    """The shipped t10k pair as normalised FloatTensors (the dataset class reads the raw idx files)."""
    mnist = embervision.datasets.MNIST(os.path.join(HERE, "data", "mnist"), train=False)
    images = mnist.test_data.float().div_(255).sub_(MEAN).div_(STD).unsqueeze(1)
    labels = mnist.test_labels
    train = TensorDataset(images[:n_train], labels[:n_train])
    val = TensorDataset(images[-n_val:], labels[-n_val:])
    return train, val


class ProgressBar(object):
    def __init__(self, total, prefix, stream=sys.stderr, width=30):
        self.total, self.prefix, self.stream, self.width = total, prefix, stream, width
        self.start = time.time()

    def update(self, done, note=""):
        filled = int(self.width * done / self.total)
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write("\r{} [{}] {}/{} {:.0f}s {}".format(self.prefix, bar, done, self.total,
                                                            time.time() - self.start, note))
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


def train_epoch(model, loader, optimizer, epoch, cuda):
    model.train()
    bar = ProgressBar(len(loader), "epoch {:2d}".format(epoch))
    for i, (data, target) in enumerate(loader):
        if cuda:
            data, target = data.cuda(**{"async": True}), target.cuda(**{"async": True})
        data, target = Variable(data), Variable(target)
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()
        if i % 10 == 0 or i + 1 == len(loader):
            bar.update(i + 1, "loss {:.4f}".format(loss.data[0]))
    bar.close()


def evaluate(model, dataset, cuda):
    model.eval()
    data, target = dataset.data_tensor, dataset.target_tensor
    if cuda:
        data, target = data.cuda(), target.cuda()
    output = model(Variable(data, volatile=True))
    loss = F.nll_loss(output, Variable(target, volatile=True)).data[0]
    pred = output.data.max(1)[1].view(-1)
    correct = pred.eq(target).sum()
    return loss, correct, pred.cpu()


def save_mistakes_grid(dataset, pred, path, count=64):
    """The first ``count`` validation digits; wrong predictions are tinted red."""
    images = dataset.data_tensor[:count].mul(STD).add(MEAN).clamp(0, 1)
    rgb = images.expand(count, 3, 28, 28).contiguous()
    wrong = pred[:count].ne(dataset.target_tensor[:count])
    for i in range(count):
        if wrong[i]:
            rgb[i][1].mul_(0.25)
            rgb[i][2].mul_(0.25)
            rgb[i][0].add_(0.5).clamp_(0, 1)
    embervision.utils.save_image(rgb, path, nrow=8, padding=2)
    return int(wrong.sum())


def main(argv=None):
    parser = argparse.ArgumentParser(description="LeNet on the MNIST sample (ember)")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=None, help="threads for ember's kernels (default: all cores)")
    parser.add_argument("--quick", action="store_true", help="a short run for CI")
    parser.add_argument("--no-cuda", action="store_true", help="train on the CPU even when a GPU is there")
    parser.add_argument("--out", default=os.path.join(HERE, "output"), help="where the model and picture go")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cuda = not args.no_cuda and torch.cuda.is_available()
    torch.manual_seed(args.seed)
    if cuda:
        torch.cuda.manual_seed(args.seed)
    n_train, n_val = (1000, 500) if args.quick else (8000, 2000)
    epochs = 1 if args.quick else args.epochs
    train_set, val_set = load_sample(n_train, n_val)
    loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, pin_memory=cuda)
    model = Net().cuda() if cuda else Net()
    optimizer = optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    # a fifth of the rate for the last epochs settles the noisy small-sample optimum
    milestones = [int(epochs * 0.55), int(epochs * 0.8)] if epochs >= 5 else []
    scheduler = MultiStepLR(optimizer, milestones=milestones, gamma=0.2)
    start = time.time()
    accuracy = 0.0
    for epoch in range(1, epochs + 1):
        scheduler.step()
        epoch_start = time.time()
        train_epoch(model, loader, optimizer, epoch, cuda)
        epoch_time = time.time() - epoch_start
        loss, correct, pred = evaluate(model, val_set, cuda)
        accuracy = 100.0 * correct / len(val_set)
        print("epoch {:2d}: validation loss {:.4f}, accuracy {}/{} ({:.2f}%), trained in {:.1f}s{}".format(
            epoch, loss, correct, len(val_set), accuracy, epoch_time, " on the GPU" if cuda else ""))
    os.makedirs(args.out, exist_ok=True)
    model_path = os.path.join(args.out, "mnist_lenet.pt")
    torch.save(model.state_dict(), model_path)
    grid_path = os.path.join(args.out, "mnist_validation.png")
    wrong = save_mistakes_grid(val_set, pred, grid_path)
    print("trained in {:.0f}s; model saved to {}; {} wrong predictions marked in {}".format(
        time.time() - start, model_path, wrong, grid_path))
    return accuracy


if __name__ == "__main__":
    main()
