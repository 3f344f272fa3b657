"""Packed sequences (PyTorch 0.2's torch.nn.utils.rnn): a batch of variable-length sequences stored
without padding, which every recurrent layer accepts in place of a padded input.

A PackedSequence holds ``data``, the rows of all sequences in time-major order (step 0 of every
sequence, then step 1 of those that are long enough, ...), and ``batch_sizes``, the list of how many
sequences each step holds. The sequences of a batch must be sorted by decreasing length, as in 0.2.
"""
from collections import namedtuple

import numpy as np

import ember
from ember.autograd import Variable
from ember.tensor import LongTensor, _TensorBase, _fmt_size, _typename_of

__all__ = ["PackedSequence", "pack_padded_sequence", "pad_packed_sequence"]

PackedSequence_ = namedtuple("PackedSequence", ["data", "batch_sizes"])


class PackedSequence(PackedSequence_):
    """Holds the data and list of batch_sizes of a packed sequence.

    Made by :func:`pack_padded_sequence` (never by hand); a recurrent module given one returns its
    output as one. ``data`` (Variable): the packed rows; ``batch_sizes`` (list of int): the batch size
    at each sequence step.
    """
    pass


def pack_padded_sequence(input, lengths, batch_first=False):
    """Packs a Variable containing padded sequences of variable length.

    ``input`` is T x B x * (B x T x * with ``batch_first``), its sequences sorted by decreasing length;
    ``lengths`` lists each sequence's length. Returns a PackedSequence whose data is a differentiable
    selection of ``input``'s rows.
    """
    op = "pack_padded_sequence"
    lengths = _lengths(lengths, op)
    if lengths[-1] <= 0:
        raise ValueError("length of all samples has to be greater than 0, but found an element in 'lengths' "
                         "that is <=0")
    if input.dim() < 2:
        raise ValueError("{}: expected an input of at least 2 dimensions (seq_len x batch x *), got size {}"
                         .format(op, _fmt_size(input.size())))
    size = tuple(input.size())
    T, B = (size[1], size[0]) if batch_first else size[:2]
    if len(lengths) != B:
        raise ValueError("lengths array has incorrect size: {} lengths for a batch of {}".format(len(lengths), B))
    lens = np.array(lengths, np.int64)
    if (np.diff(lens) > 0).any():
        raise ValueError("lengths array has to be sorted in decreasing order, got {}".format(lengths))
    if lens[0] > T:
        raise ValueError("{}: the longest length ({}) exceeds the input's {} steps (size {})"
                         .format(op, lengths[0], T, _fmt_size(size)))
    steps = np.arange(int(lens[0]))
    present = lens[None, :] > steps[:, None]          # [t, b]: sequence b has a step t
    batch_sizes = present.sum(1).tolist()
    t, b = np.nonzero(present)                        # time-major, batch ascending within a step
    flat = b * T + t if batch_first else t * B + b    # row of (t, b) in the input viewed as (T*B or B*T) x *
    rows = input.contiguous().view(T * B, *size[2:]) if len(size) > 2 else input.contiguous().view(T * B)
    return PackedSequence(rows.index_select(0, _index(flat, input)), batch_sizes)


def pad_packed_sequence(sequence, batch_first=False):
    """Pads a packed batch of variable length sequences; the inverse of :func:`pack_padded_sequence`.

    Returns (padded, lengths): ``padded`` is T x B x * (B x T x * with ``batch_first``), zero past
    each sequence's end; ``lengths`` is the list of the sequences' lengths.
    """
    op = "pad_packed_sequence"
    try:
        data, batch_sizes = sequence
    except (TypeError, ValueError):
        raise TypeError("{}: expected a PackedSequence, got {}".format(op, _typename_of(sequence))) from None
    sizes = _lengths(batch_sizes, op, "batch_sizes")
    bs = np.array(sizes, np.int64)
    if bs[-1] <= 0 or (np.diff(bs) > 0).any() or int(bs.sum()) != data.size(0):
        raise ValueError("{}: batch_sizes {} must be positive, non-increasing and sum to the {} rows of data"
                         .format(op, sizes, data.size(0)))
    B, N = sizes[0], data.size(0)
    lengths = (bs[None, :] > np.arange(B)[:, None]).sum(1)   # lengths[b]: steps holding sequence b
    starts = np.concatenate(([0], np.cumsum(bs)[:-1]))
    # the data row of each padded position, or N (an appended row of zeros) past a sequence's end
    src = np.where(np.arange(B)[None, :] < bs[:, None], starts[:, None] + np.arange(B)[None, :], N)
    if batch_first:
        src = src.T
    rest = tuple(data.size()[1:])
    zero = data.data.new(1, *rest).zero_()
    padded_rows = ember.cat([data, Variable(zero) if isinstance(data, Variable) else zero], 0)
    output = padded_rows.index_select(0, _index(src.reshape(-1), data))
    output = output.view(*(src.shape + rest))
    return output, lengths.tolist()


def _lengths(lengths, op, name="lengths"):
    """A list of Python ints (lengths may be a list, a tuple, a 1-D LongTensor or Variable)."""
    if isinstance(lengths, Variable):
        lengths = lengths.data
    if isinstance(lengths, _TensorBase):
        lengths = lengths.tolist() if lengths.dim() == 1 else [] if lengths.dim() == 0 else None
    try:
        out = [int(v) for v in lengths]
        if any(isinstance(v, float) and v != int(v) for v in lengths):
            raise ValueError
    except (TypeError, ValueError):
        raise TypeError("{}: {} must be a list of ints, got {!r}".format(op, name, lengths)) from None
    if not out:
        raise ValueError("{}: {} must not be empty".format(op, name))
    return out


def _index(flat, like):
    """The row indices ``flat`` as a LongTensor (a Variable when ``like`` is one) on ``like``'s device."""
    idx = LongTensor._make(np.ascontiguousarray(flat, np.int64))
    data = like.data if isinstance(like, Variable) else like
    if data.is_cuda:
        idx = idx.cuda(data.get_device())
    return Variable(idx) if isinstance(like, Variable) else idx
