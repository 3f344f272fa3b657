import numbers

import ember
from ember.autograd import Variable
from ember.tensor import _fmt_size, _typename_of

from .module import Module
from ..parameter import Parameter
from .._functional.sparse import SPARSE_MSG, EmbeddingBag as _EmbeddingBagFn, _check_indices, _embedding

__all__ = ["Embedding", "EmbeddingBag"]


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``: a LongTensor input of any size
    gives input.size() + (embedding_dim,). The row ``padding_idx`` starts at zero and gets no gradient
    (a negative padding_idx counts from the end, as in later PyTorch; 0.2 zeroed the last row and still
    trained it). ``max_norm`` renormalises the looked-up rows in place; ``scale_grad_by_freq`` divides the
    gradient by the frequency of each index in the batch. ``sparse=True`` raises NotImplementedError:
    torch.sparse is out of ember's scope."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2,
                 scale_grad_by_freq=False, sparse=False):
        super(Embedding, self).__init__()
        if sparse:
            raise NotImplementedError(SPARSE_MSG.format("Embedding"))
        if padding_idx is not None:
            if not isinstance(padding_idx, numbers.Integral) or not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError("Embedding: padding_idx must be an int within num_embeddings ({}), got {!r}"
                                 .format(num_embeddings, padding_idx))
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.weight = Parameter(ember.Tensor(num_embeddings, embedding_dim))
        self.sparse = sparse
        self.reset_parameters()

    def reset_parameters(self):
        self.weight.data.normal_(0, 1)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx].fill_(0)

    def forward(self, input):
        return _embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                          self.scale_grad_by_freq, False, "Embedding")

    def __repr__(self):
        s = "{name}({num_embeddings}, {embedding_dim}"
        if self.padding_idx is not None:
            s += ", padding_idx={padding_idx}"
        if self.max_norm is not None:
            s += ", max_norm={max_norm}"
        if self.norm_type != 2:
            s += ", norm_type={norm_type}"
        if self.scale_grad_by_freq is not False:
            s += ", scale_grad_by_freq={scale_grad_by_freq}"
        s += ")"
        return s.format(name=self.__class__.__name__, **self.__dict__)


class EmbeddingBag(Module):
    """Sums or averages (``mode`` 'sum' / 'mean') bags of embeddings without building the intermediate
    embeddings. ``forward(input, offsets=None)``: a 2D input (B x N) is B bags of N indices; a 1D input is
    cut into bags at the positions ``offsets`` (a 1D LongTensor starting with 0). Gives B x embedding_dim;
    an empty bag gives zeros."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                 mode="mean"):
        super(EmbeddingBag, self).__init__()
        if mode not in ("sum", "mean"):
            raise ValueError("EmbeddingBag: mode has to be one of sum or mean, got {!r}".format(mode))
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.weight = Parameter(ember.Tensor(num_embeddings, embedding_dim))
        self.mode = mode
        self.reset_parameters()

    def reset_parameters(self):
        self.weight.data.normal_(0, 1)

    def forward(self, input, offsets=None):
        _check_indices(input, self.weight, "EmbeddingBag")
        if input.dim() == 2:
            if offsets is not None:
                raise ValueError("EmbeddingBag: if input is 2D, then offsets has to be None, as input is treated "
                                 "is a mini-batch of fixed length sequences. However, found offsets of type {}"
                                 .format(_typename_of(offsets)))
            offsets = ember.arange(0, input.numel(), input.size(1)).long()
            if input.is_cuda:
                offsets = offsets.cuda(input.get_device())
            input = input.contiguous().view(-1)
        elif input.dim() == 1:
            offsets = self._check_offsets(offsets, input.data)
        else:
            raise ValueError("EmbeddingBag: input has to be 1D or 2D Tensor, but got Tensor of size {}"
                             .format(_fmt_size(input.size())))
        return _EmbeddingBagFn.apply(input, offsets, self.weight, self.max_norm, self.norm_type,
                                     self.scale_grad_by_freq, self.mode)

    @staticmethod
    def _check_offsets(offsets, indices):
        """offsets: a 1D LongTensor of the indices' type (on their device) that cuts them into bags."""
        if offsets is None:
            raise ValueError("EmbeddingBag: offsets has to be a 1D Tensor but got None")
        if isinstance(offsets, Variable):
            offsets = offsets.data
        if type(offsets) is not type(indices) or offsets.dim() != 1:
            raise ValueError("EmbeddingBag: offsets has to be a 1D {}, got {} of size {}"
                             .format(type(indices)._typename, _typename_of(offsets), _fmt_size(offsets.size())))
        if offsets.is_cuda and offsets.get_device() != indices.get_device():
            raise ValueError("EmbeddingBag: offsets has to be on GPU {} (where input is), got GPU {}"
                             .format(indices.get_device(), offsets.get_device()))
        a = offsets._a
        n = indices.numel()
        with ember.cuda.device_of(offsets):  # one host read for the three checks (a device sync on CUDA)
            first, last, decreasing = type(offsets)._xp.stack([a[0], a[-1], (a[1:] < a[:-1]).any()]).tolist()
        if first != 0:
            raise ValueError("EmbeddingBag: offsets[0] has to be 0, i.e. the first sequence in the mini-batch "
                             "has to start from position 0. However, got {}".format(first))
        if last > n:
            raise ValueError("EmbeddingBag: offsets[-1] can't be greater than input's length ({}), but got "
                             "offsets[-1] of {}".format(n, last))
        if decreasing:
            raise ValueError("EmbeddingBag: offsets must be non-decreasing, got {}".format(a.tolist()))
        return offsets.contiguous()

    def __repr__(self):
        s = "{name}({num_embeddings}, {embedding_dim}"
        if self.max_norm is not None:
            s += ", max_norm={max_norm}"
        if self.norm_type != 2:
            s += ", norm_type={norm_type}"
        if self.scale_grad_by_freq is not False:
            s += ", scale_grad_by_freq={scale_grad_by_freq}"
        s += ", mode={mode})"
        return s.format(name=self.__class__.__name__, **self.__dict__)
