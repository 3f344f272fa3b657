"""A character-level LSTM language model (char-rnn) trained on the Shakespeare sample shipped with the
repository (examples/data/tinyshakespeare_100k.txt), then sampled.

PyTorch-0.2-style code (`import ember as torch`): an Embedding, a multi-layer nn.LSTM and a Linear decoder,
trained with truncated backpropagation through time (the hidden state carries over from batch to batch,
cut from the graph each time) and Adam with gradient clipping. The first 90% of the text trains, the rest
validates. Prints a progress bar with the running loss, the training and validation loss of every epoch
(falling from ln(vocabulary) = 4.1), and text sampled from the model after each epoch.

With --cuda it trains on the GPU (CuPy), as 0.2's word_language_model example did.

usage: python examples/char_rnn.py [--epochs N] [--quick] [--cuda] [--hidden H] [--layers L] [--save PATH]
"""
import argparse
import math
import os
import sys
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.autograd import Variable

HERE = os.path.dirname(os.path.abspath(__file__))
TEXT = os.path.join(HERE, "data", "tinyshakespeare_100k.txt")


class CharRNN(nn.Module):
    def __init__(self, vocab, embed, hidden, layers, dropout):
        super(CharRNN, self).__init__()
        self.encoder = nn.Embedding(vocab, embed)
        self.rnn = nn.LSTM(embed, hidden, num_layers=layers, dropout=dropout)
        self.decoder = nn.Linear(hidden, vocab)
        self.drop = nn.Dropout(dropout)

    def forward(self, input, hidden):
        """input: seq_len x batch character indices; returns (seq_len * batch) x vocab logits."""
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        logits = self.decoder(output.view(output.size(0) * output.size(1), output.size(2)))
        return logits, hidden

    def init_hidden(self, batch):
        weight = next(self.parameters()).data  # the state lives where the model does (CPU or GPU)
        h = Variable(weight.new(self.rnn.num_layers, batch, self.rnn.hidden_size).zero_())
        return (h, h)


def repackage_hidden(h):
    """Cut the hidden state from its history (truncated backpropagation through time)."""
    if isinstance(h, Variable):
        return Variable(h.data)
    return tuple(repackage_hidden(v) for v in h)


def batchify(data, batch):
    """The character stream as `batch` parallel columns: a (len // batch) x batch LongTensor."""
    n = data.size(0) // batch
    return data[:n * batch].view(batch, n).t().contiguous()


class ProgressBar(object):
    def __init__(self, total, prefix, width=30, stream=sys.stderr):
        self.total, self.prefix, self.width, self.stream = total, prefix, width, stream
        self.start = time.time()

    def show(self, done, note):
        filled = self.width * done // self.total
        self.stream.write("\r{} [{}{}] {}/{} {:.0f}s {}".format(self.prefix, "#" * filled, "-" * (self.width - filled),
                                                              done, self.total, time.time() - self.start, note))
        self.stream.flush()

    def close(self):
        self.stream.write("\n")
        self.stream.flush()


def train_epoch(model, data, args, optimizer, epoch):
    model.train()
    hidden = model.init_hidden(args.batch)
    starts = list(range(0, data.size(0) - 1, args.seq))
    bar = ProgressBar(len(starts), "epoch {:2d}".format(epoch))
    total = 0.0
    for i, start in enumerate(starts):
        n = min(args.seq, data.size(0) - 1 - start)
        input = Variable(data[start:start + n])
        target = Variable(data[start + 1:start + 1 + n].contiguous().view(-1))
        hidden = repackage_hidden(hidden)
        optimizer.zero_grad()
        logits, hidden = model(input, hidden)
        loss = F.cross_entropy(logits, target)
        loss.backward()
        nn.utils.clip_grad_norm(model.parameters(), args.clip)
        optimizer.step()
        total += loss.data[0]
        bar.show(i + 1, "loss {:.3f}".format(total / (i + 1)))
    bar.close()
    return total / len(starts)


def evaluate(model, data, args):
    model.eval()
    hidden = model.init_hidden(data.size(1))
    total, count = 0.0, 0
    for start in range(0, data.size(0) - 1, args.seq):
        n = min(args.seq, data.size(0) - 1 - start)
        input = Variable(data[start:start + n], volatile=True)
        target = Variable(data[start + 1:start + 1 + n].contiguous().view(-1), volatile=True)
        logits, hidden = model(input, hidden)
        total += F.cross_entropy(logits, target).data[0] * n
        count += n
    return total / count


def sample(model, chars, index, prime, length, temperature, cuda=False):
    """Text generated after ``prime`` one character at a time, drawn from the softmax of the logits /
    temperature."""
    model.eval()
    hidden = model.init_hidden(1)
    out = []

    def as_input(indices):
        t = torch.LongTensor(indices)
        return Variable(t.cuda() if cuda else t, volatile=True)
    input = as_input([[index[c]] for c in prime])
    for _ in range(length):
        logits, hidden = model(input, hidden)
        probs = F.softmax(logits[-1:] / temperature).data.view(-1)
        c = torch.multinomial(probs, 1)[0]
        out.append(chars[c])
        input = as_input([[c]])
    return "".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--hidden", type=int, default=256)
    ap.add_argument("--layers", type=int, default=2)
    ap.add_argument("--embed", type=int, default=64)
    ap.add_argument("--seq", type=int, default=100, help="steps of truncated backpropagation through time")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.004)
    ap.add_argument("--clip", type=float, default=5.0)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--temperature", type=float, default=0.8)
    ap.add_argument("--sample-len", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true", help="a small model on half the text (CI, < 1 min)")
    ap.add_argument("--save", help="save the trained model's state_dict here (ember.save)")
    ap.add_argument("--cuda", action="store_true", help="train on the GPU")
    args = ap.parse_args()
    if args.quick:
        args.epochs, args.hidden, args.layers, args.embed = 4, 128, 1, 32
        args.seq, args.batch, args.sample_len = 50, 32, 160
    torch.manual_seed(args.seed)
    if args.cuda:
        torch.cuda.manual_seed(args.seed)

    with open(TEXT) as f:
        text = f.read()
    if args.quick:
        text = text[:len(text) // 2]
    chars = sorted(set(text))
    index = {c: i for i, c in enumerate(chars)}
    data = torch.LongTensor([index[c] for c in text])
    split = int(len(text) * 0.9)
    train, val = batchify(data[:split], args.batch), batchify(data[split:], 8)
    if args.cuda:
        train, val = train.cuda(), val.cuda()
    print("text: {:,} characters, vocabulary of {}; {} batches of {} x {} per epoch".format(
        len(text), len(chars), (train.size(0) - 2) // args.seq + 1, args.seq, args.batch))

    model = CharRNN(len(chars), args.embed, args.hidden, args.layers, args.dropout)
    if args.cuda:
        model.cuda()
    print(model)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)
    print("loss before training: {:.3f} (uniform guess: ln {} = {:.3f})".format(
        evaluate(model, val, args), len(chars), math.log(len(chars))))
    start = time.time()
    for epoch in range(1, args.epochs + 1):
        train_loss = train_epoch(model, train, args, optimizer, epoch)
        val_loss = evaluate(model, val, args)
        print("epoch {:2d}: train loss {:.3f}, validation loss {:.3f} (perplexity {:.1f}), {:.0f}s".format(
            epoch, train_loss, val_loss, math.exp(val_loss), time.time() - start))
        print("  sample: " + sample(model, chars, index, "\n", args.sample_len, args.temperature, args.cuda)
              .replace("\n", "\n          "))
    if args.save:
        torch.save(model.state_dict(), args.save)
        print("saved the model's state_dict to", args.save)


if __name__ == "__main__":
    main()
