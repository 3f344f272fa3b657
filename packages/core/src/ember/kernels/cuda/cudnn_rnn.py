"""Recurrent layers on cuDNN (the RNN API of cuDNN 8/9, ``cudnnRNNForward`` and its ``_v8`` backward
passes) through ctypes, for ``ember.kernels.cuda.rnn``: one layer and one direction per call, as ember's
recurrent kernels are called, on the packed time-major layout (step t holds sizes[t] rows).

cuDNN runs forward directions; a reversed one runs forward on the batch with every sequence reversed
within its own length (one row gather before, one after: ``reversal``). Its cell modes are
numbered as ember's (RNN_RELU, RNN_TANH, LSTM, GRU) and its gate order is 0.2's (i, f, g, o; r, z, n), so
the packed weight space is w_ih, w_hh, b_ih, b_hh one after the other when cuDNN lays it out that way (it
is checked once per layer shape through ``cudnnGetRNNWeightParams``; otherwise each gate's block is copied
to where cuDNN says). Float and double compute in their type with FMA math, half in float32. The weight
gradients come back through the same layout.

``forward`` returns None when cuDNN failed: the error is warned once and ember's kernels take over from
then on (``usable`` says whether to try: cuDNN present and switched on, not the fake CUDA, and
EMBER_CUDNN_RNN not 0).
"""
import ctypes
import os
import warnings

import numpy as np

from ember import _backend

from . import cudnn as _binding

_GATES = (1, 1, 4, 3)
_NO_BIAS, _DOUBLE_BIAS = 0, 2
_PACKED = 1  # CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED
_TRAINING = 1
_WGRAD_SET = 1

_failed = []  # a cuDNN error happened: ember's kernels from then on


def usable(dtype):
    return not _failed and os.environ.get("EMBER_CUDNN_RNN", "1") != "0" and _binding.usable(dtype)


def reversal(sizes):
    """The row permutation that reverses every sequence of a packed batch within its own length: row
    (t, b) <-> row (length_b - 1 - t, b). The reversed batch packs with the same step sizes, and the
    permutation is its own inverse (so it also maps the results back)."""
    sizes = np.asarray(sizes, np.int64)
    offs = np.cumsum(sizes) - sizes
    t = np.repeat(np.arange(len(sizes)), sizes)
    b = np.arange(int(sizes.sum())) - offs[t]
    lengths = (sizes[None, :] > np.arange(int(sizes[0]))[:, None]).sum(1)
    return offs[lengths[b] - 1 - t] + b


def _lib():
    return _binding._lib


_check = _binding._check


def _ptr(a):
    return None if a is None else ctypes.c_void_p(a.data.ptr)


class _Layer(object):
    """The RNN descriptor of one layer shape (mode, input size, hidden size, biases, dtype) and where its
    weights sit in cuDNN's weight space."""

    def __init__(self, mode, I, H, bias, dtype):
        dt = self.dt = _binding._DATA_TYPES[np.dtype(dtype)]
        self.mode, self.I, self.H, self.G, self.bias, self.dtype = mode, I, H, _GATES[mode], bias, np.dtype(dtype)
        self.batches = {}  # (step sizes, reversed) -> _Batch
        self.desc = _binding.Descriptor("RNN")
        _check(_lib().cudnnSetRNNDescriptor_v8(
            self.desc, 0, mode, _DOUBLE_BIAS if bias else _NO_BIAS, 0, 0, dt, 0 if dt == 2 else dt,
            _binding._DEFAULT_MATH if dt == 2 else _binding._FMA_MATH, I, H, H, 1, None, 0), "cudnnSetRNNDescriptor_v8")
        self.space = None  # (bytes, plain): the weight space's size, and whether it is w_ih|w_hh|b_ih|b_hh
        self.offsets = None  # else (matrix offsets, bias offsets) per gate block, in elements

    def batch(self, sizes, reverse, xp, handle):
        key = (tuple(sizes), bool(reverse))
        got = self.batches.get(key)
        if got is None:
            if len(self.batches) >= 32:  # a run of ever-new layouts (varying lengths) must not pile up
                self.batches.clear()
            got = self.batches[key] = _Batch(self, sizes, reverse, xp, handle)
        return got

    def weight_space(self, handle, xp):
        """A new weight space (elements of the dtype), its layout learnt on first use."""
        if self.space is None:
            size = ctypes.c_size_t()
            _check(_lib().cudnnGetRNNWeightSpaceSize(handle, self.desc, ctypes.byref(size)),
                   "cudnnGetRNNWeightSpaceSize")
            space = xp.empty(size.value // self.dtype.itemsize, self.dtype)
            self.offsets = self._offsets(handle, space)
            G, H, I = self.G, self.H, self.I
            plain = ([g * H * I for g in range(G)] + [G * H * I + g * H * H for g in range(G)],
                     [G * H * (I + H) + g * H for g in range(2 * G)] if self.bias else [None] * (2 * G))
            self.space = (size.value, self.offsets == plain)
            return space
        return xp.empty(self.space[0] // self.dtype.itemsize, self.dtype)

    def _offsets(self, handle, space):
        base, item = space.data.ptr, self.dtype.itemsize
        m, b = _binding.Descriptor("Tensor"), _binding.Descriptor("Tensor")
        mats, biases = [], []
        for lin in range(2 * self.G):
            maddr, baddr = ctypes.c_void_p(), ctypes.c_void_p()
            _check(_lib().cudnnGetRNNWeightParams(handle, self.desc, 0, space.nbytes, ctypes.c_void_p(base), lin, m,
                                                  ctypes.byref(maddr), b, ctypes.byref(baddr)),
                   "cudnnGetRNNWeightParams")
            mats.append((maddr.value - base) // item)
            biases.append((baddr.value - base) // item if baddr.value else None)
        return mats, biases

    def pack(self, space, w_ih, w_hh, b_ih, b_hh):
        """Copy ember's weights into cuDNN's weight space."""
        xp = _backend.cupy
        G, H, I = self.G, self.H, self.I
        parts = [w_ih.reshape(-1), w_hh.reshape(-1)]
        if self.bias:
            parts += [b.reshape(-1) if b is not None else xp.zeros(G * H, self.dtype) for b in (b_ih, b_hh)]
        if self.space[1]:
            n = sum(p.size for p in parts)
            xp.concatenate([p.astype(self.dtype, copy=False) for p in parts], out=space[:n])
            return
        mats, biases = self.offsets
        for lin in range(2 * G):
            w, cols = (w_ih, I) if lin < G else (w_hh, H)
            g = lin % G
            space[mats[lin]:mats[lin] + H * cols] = w[g * H:(g + 1) * H].reshape(-1)
            if self.bias:
                b = parts[2 + lin // G]
                space[biases[lin]:biases[lin] + H] = b[g * H:(g + 1) * H]

    def unpack(self, space):
        """(grad w_ih, grad w_hh, grad b_ih, grad b_hh) from a gradient weight space (None without biases)."""
        xp = _backend.cupy
        G, H, I = self.G, self.H, self.I
        if self.space[1]:
            n1, n2 = G * H * I, G * H * H
            gw_ih, gw_hh = space[:n1].reshape(G * H, I), space[n1:n1 + n2].reshape(G * H, H)
            if not self.bias:
                return gw_ih, gw_hh, None, None
            o = n1 + n2
            return gw_ih, gw_hh, space[o:o + G * H], space[o + G * H:o + 2 * G * H]
        mats, biases = self.offsets
        gw_ih, gw_hh = xp.empty((G * H, I), self.dtype), xp.empty((G * H, H), self.dtype)
        gb = [xp.empty(G * H, self.dtype), xp.empty(G * H, self.dtype)] if self.bias else [None, None]
        for lin in range(2 * G):
            w, cols = (gw_ih, I) if lin < G else (gw_hh, H)
            g = lin % G
            w[g * H:(g + 1) * H] = space[mats[lin]:mats[lin] + H * cols].reshape(H, cols)
            if self.bias:
                gb[lin // G][g * H:(g + 1) * H] = space[biases[lin]:biases[lin] + H]
        return gw_ih, gw_hh, gb[0], gb[1]


_layers = {}


def _layer(mode, I, H, bias, dtype):
    key = (mode, I, H, bias, np.dtype(dtype), _backend.cupy.cuda.runtime.getDevice())
    layer = _layers.get(key)
    if layer is None:
        layer = _layers[key] = _Layer(mode, I, H, bias, dtype)
    return layer


class _Batch(object):
    """The descriptors, sequence lengths, reversal and temporary-space sizes of one batch layout (step sizes
    and direction) of a layer: made once and kept, as a network feeds the same layout step after step."""

    def __init__(self, layer, sizes, reverse, xp, handle):
        T, B = len(sizes), sizes[0]
        lengths = (np.asarray(sizes)[None, :] > np.arange(B)[:, None]).sum(1).tolist()
        self.B = B
        self.lengths = xp.asarray(np.array(lengths, np.int32))
        self.perm = xp.asarray(reversal(sizes)) if reverse else None
        self.x, self.y = _data_desc(layer.dt, T, B, layer.I, lengths), _data_desc(layer.dt, T, B, layer.H, lengths)
        self.h = _binding.tensor_descriptor((1, B, layer.H), layer.dt)
        work, reserve = ctypes.c_size_t(), ctypes.c_size_t()
        _check(_lib().cudnnGetRNNTempSpaceSizes(handle, layer.desc, _TRAINING, self.x, ctypes.byref(work),
                                                ctypes.byref(reserve)), "cudnnGetRNNTempSpaceSizes")
        self.work, self.reserve = work.value, reserve.value


class State(object):
    """What ``forward`` keeps for ``backward``: the layer and batch layout, the packed weights, cuDNN's
    reserve space and the arrays it reads again."""
    __slots__ = ("layer", "batch", "space", "reserve", "x", "y", "h0", "c0")


def _data_desc(dt, T, B, vector, lengths):
    d = _binding.Descriptor("RNNData")
    _check(_lib().cudnnSetRNNDataDescriptor(d, dt, _PACKED, T, B, vector, (ctypes.c_int * B)(*lengths), None),
           "cudnnSetRNNDataDescriptor")
    return d


def _fail(err):
    _failed.append(err)
    warnings.warn("cuDNN failed on a recurrent layer ({}); ember runs its own kernels for them from now on"
                  .format(err), RuntimeWarning, stacklevel=4)


def forward(xp, mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, sizes, reverse):
    """(output N x H, hy, cy (None but for LSTM), State) of one layer direction on cuDNN, or None when
    cuDNN failed (ember's kernels run it then)."""
    try:
        return _forward(xp, mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, [int(n) for n in sizes], reverse)
    except _binding.CudnnError as e:
        _fail(e)
        return None


def _forward(xp, mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, sizes, reverse):
    N, I = x.shape
    H = w_hh.shape[1]
    layer = _layer(mode, I, H, b_ih is not None or b_hh is not None, x.dtype)
    handle = _binding._handle()
    batch = layer.batch(sizes, reverse, xp, handle)
    s = State()
    s.layer, s.batch = layer, batch
    s.space = layer.weight_space(handle, xp)
    layer.pack(s.space, w_ih, w_hh, b_ih, b_hh)
    workspace = xp.empty(max(batch.work, 1), np.uint8)
    s.reserve = xp.empty(max(batch.reserve, 1), np.uint8)
    s.x = xp.ascontiguousarray(x) if batch.perm is None else xp.take(x, batch.perm, axis=0)
    s.y = xp.empty((N, H), x.dtype)
    s.h0 = None if h0 is None else xp.ascontiguousarray(h0)
    s.c0 = None if c0 is None else xp.ascontiguousarray(c0)
    hy = xp.empty((batch.B, H), x.dtype)
    lstm = mode == 2
    cy = xp.empty((batch.B, H), x.dtype) if lstm else None
    _check(_lib().cudnnRNNForward(
        handle, layer.desc, _TRAINING, _ptr(batch.lengths), batch.x, _ptr(s.x), batch.y, _ptr(s.y), batch.h,
        _ptr(s.h0), _ptr(hy), batch.h, _ptr(s.c0) if lstm else None, _ptr(cy), s.space.nbytes, _ptr(s.space),
        batch.work, _ptr(workspace), batch.reserve, _ptr(s.reserve)), "cudnnRNNForward")
    out = s.y if batch.perm is None else xp.take(s.y, batch.perm, axis=0)  # back to the rows' own order
    return out, hy, cy, s


def backward(xp, s, grad_output, grad_hy, grad_cy, need_weights):
    """(grad_input N x I, grad_hx, grad_cx, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh) of ``forward``'s layer
    (the weight gradients None unless ``need_weights``)."""
    layer, batch = s.layer, s.batch
    handle = _binding._handle()
    N, H = s.y.shape
    dt = s.y.dtype
    lstm = layer.mode == 2
    if grad_output is None:
        dy = xp.zeros((N, H), dt)
    elif batch.perm is not None:  # into the reversed batch's row order
        dy = xp.take(grad_output.astype(dt, copy=False), batch.perm, axis=0)
    else:
        dy = xp.ascontiguousarray(grad_output.astype(dt, copy=False))
    dhy = None if grad_hy is None else xp.ascontiguousarray(grad_hy.astype(dt, copy=False))
    dcy = None if grad_cy is None or not lstm else xp.ascontiguousarray(grad_cy.astype(dt, copy=False))
    dx = xp.empty(s.x.shape, s.x.dtype)
    dhx = xp.empty((batch.B, H), dt)
    dcx = xp.empty((batch.B, H), dt) if lstm else None
    workspace = xp.empty(max(batch.work, 1), np.uint8)
    _check(_lib().cudnnRNNBackwardData_v8(
        handle, layer.desc, _ptr(batch.lengths), batch.y, _ptr(s.y), _ptr(dy), batch.x, _ptr(dx), batch.h,
        _ptr(s.h0), _ptr(dhy), _ptr(dhx), batch.h, _ptr(s.c0) if lstm else None, _ptr(dcy), _ptr(dcx),
        s.space.nbytes, _ptr(s.space), batch.work, _ptr(workspace), batch.reserve, _ptr(s.reserve)),
        "cudnnRNNBackwardData_v8")
    grads = (None, None, None, None)
    if need_weights:
        dspace = xp.zeros(s.space.shape, s.space.dtype)
        _check(_lib().cudnnRNNBackwardWeights_v8(
            handle, layer.desc, _WGRAD_SET, _ptr(batch.lengths), batch.x, _ptr(s.x), batch.h, _ptr(s.h0), batch.y,
            _ptr(s.y), s.space.nbytes, _ptr(dspace), batch.work, _ptr(workspace), batch.reserve, _ptr(s.reserve)),
            "cudnnRNNBackwardWeights_v8")
        grads = layer.unpack(dspace)
    if batch.perm is not None:
        dx = xp.take(dx, batch.perm, axis=0)
    return (dx, dhx, dcx) + tuple(grads)
