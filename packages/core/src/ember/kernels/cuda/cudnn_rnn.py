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
import threading
import warnings

import numpy as np

from ember import _backend

from . import cudnn as _binding

_DATA_TYPES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.float16): 2}
_GATES = (1, 1, 4, 3)
_NO_BIAS, _DOUBLE_BIAS = 0, 2
_PACKED = 1  # CUDNN_RNN_DATA_LAYOUT_SEQ_MAJOR_PACKED
_TRAINING = 1
_WGRAD_SET = 1
_DEFAULT_MATH, _FMA_MATH = 0, 3

_P, _I, _S = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
_SIGNATURES = {
    "cudnnCreateRNNDescriptor": (_I, (ctypes.POINTER(_P),)),
    "cudnnDestroyRNNDescriptor": (_I, (_P,)),
    "cudnnSetRNNDescriptor_v8": (_I, (_P, _I, _I, _I, _I, _I, _I, _I, _I, ctypes.c_int32, ctypes.c_int32,
                                      ctypes.c_int32, ctypes.c_int32, _P, ctypes.c_uint32)),
    "cudnnCreateRNNDataDescriptor": (_I, (ctypes.POINTER(_P),)),
    "cudnnDestroyRNNDataDescriptor": (_I, (_P,)),
    "cudnnSetRNNDataDescriptor": (_I, (_P, _I, _I, _I, _I, _I, ctypes.POINTER(ctypes.c_int), _P)),
    "cudnnGetRNNWeightSpaceSize": (_I, (_P, _P, ctypes.POINTER(_S))),
    "cudnnGetRNNWeightParams": (_I, (_P, _P, ctypes.c_int32, _S, _P, ctypes.c_int32, _P, ctypes.POINTER(_P), _P,
                                     ctypes.POINTER(_P))),
    "cudnnGetRNNTempSpaceSizes": (_I, (_P, _P, _I, _P, ctypes.POINTER(_S), ctypes.POINTER(_S))),
    "cudnnRNNForward": (_I, (_P, _P, _I, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _S, _P, _S, _P, _S, _P)),
    "cudnnRNNBackwardData_v8": (_I, (_P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _S, _P, _S,
                                     _P, _S, _P)),
    "cudnnRNNBackwardWeights_v8": (_I, (_P, _P, _I, _P, _P, _P, _P, _P, _P, _P, _S, _P, _S, _P, _S, _P)),
}

_lock = threading.Lock()
_bound = []
_failed = []  # a cuDNN error happened: ember's kernels from then on


def _lib():
    """cuDNN with the RNN functions' signatures set, or None (no cuDNN, or one without this API)."""
    if not _bound:
        with _lock:
            if not _bound:
                lib = _binding.library()
                try:
                    for name, (restype, argtypes) in _SIGNATURES.items():
                        fn = getattr(lib, name)
                        fn.restype, fn.argtypes = restype, argtypes
                except AttributeError:
                    lib = None
                _bound.append(lib)
    return _bound[0]


def usable(dtype):
    return (not _failed and os.environ.get("EMBER_CUDNN_RNN", "1") != "0" and _binding.usable(dtype)
            and _lib() is not None)


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


def _check(status, what):
    if status:
        raise _binding.CudnnError("{} failed: {} ({})".format(what, _lib().cudnnGetErrorString(status).decode(),
                                                               status))


def _ptr(a):
    return None if a is None else ctypes.c_void_p(a.data.ptr)


class _Descriptor(object):
    """A cuDNN descriptor made by ``create`` and freed by ``destroy`` (names of the library's functions)."""

    def __init__(self, create, destroy):
        self.handle = ctypes.c_void_p()
        self._destroy = destroy
        _check(getattr(_lib(), create)(ctypes.byref(self.handle)), create)

    def __del__(self):
        lib = _bound[0] if _bound else None
        if lib is not None and self.handle.value:
            getattr(lib, self._destroy)(self.handle)


class _Layer(object):
    """The RNN descriptor of one layer shape (mode, input size, hidden size, biases, dtype) and where its
    weights sit in cuDNN's weight space."""

    def __init__(self, mode, I, H, bias, dtype):
        dt = _DATA_TYPES[np.dtype(dtype)]
        self.mode, self.I, self.H, self.G, self.bias, self.dtype = mode, I, H, _GATES[mode], bias, np.dtype(dtype)
        self.desc = _Descriptor("cudnnCreateRNNDescriptor", "cudnnDestroyRNNDescriptor")
        _check(_lib().cudnnSetRNNDescriptor_v8(
            self.desc.handle, 0, mode, _DOUBLE_BIAS if bias else _NO_BIAS, 0, 0, dt, 0 if dt == 2 else dt,
            _DEFAULT_MATH if dt == 2 else _FMA_MATH, I, H, H, 1, None, 0), "cudnnSetRNNDescriptor_v8")
        self.space = None  # (bytes, plain): the weight space's size, and whether it is w_ih|w_hh|b_ih|b_hh
        self.offsets = None  # else (matrix offsets, bias offsets) per gate block, in elements

    def weight_space(self, handle, xp):
        """A new weight space (elements of the dtype), its layout learnt on first use."""
        if self.space is None:
            size = ctypes.c_size_t()
            _check(_lib().cudnnGetRNNWeightSpaceSize(handle, self.desc.handle, ctypes.byref(size)),
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
        m, b = _Descriptor("cudnnCreateTensorDescriptor", "cudnnDestroyTensorDescriptor"), \
            _Descriptor("cudnnCreateTensorDescriptor", "cudnnDestroyTensorDescriptor")
        mats, biases = [], []
        for lin in range(2 * self.G):
            maddr, baddr = ctypes.c_void_p(), ctypes.c_void_p()
            _check(_lib().cudnnGetRNNWeightParams(handle, self.desc.handle, 0, space.nbytes, ctypes.c_void_p(base),
                                                  lin, m.handle, ctypes.byref(maddr), b.handle, ctypes.byref(baddr)),
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


class State(object):
    """What ``forward`` keeps for ``backward``: the descriptors, the packed weights, cuDNN's reserve space
    and the arrays it reads again."""
    __slots__ = ("layer", "x_desc", "y_desc", "h_desc", "lengths", "space", "reserve", "x", "y", "h0", "c0",
                 "perm")


def _data_desc(dt, T, B, vector, lengths):
    d = _Descriptor("cudnnCreateRNNDataDescriptor", "cudnnDestroyRNNDataDescriptor")
    _check(_lib().cudnnSetRNNDataDescriptor(d.handle, dt, _PACKED, T, B, vector,
                                            (ctypes.c_int * B)(*lengths), None), "cudnnSetRNNDataDescriptor")
    return d


def _state_desc(dt, B, H):
    d = _Descriptor("cudnnCreateTensorDescriptor", "cudnnDestroyTensorDescriptor")
    _check(_lib().cudnnSetTensorNdDescriptor(d.handle, dt, 3, _binding._ints((1, B, H)),
                                             _binding._ints((B * H, H, 1))), "cudnnSetTensorNdDescriptor")
    return d


def _fail(err):
    _failed.append(err)
    warnings.warn("cuDNN failed on a recurrent layer ({}); ember runs its own kernels for them from now on"
                  .format(err), RuntimeWarning, stacklevel=4)


def forward(xp, mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, sizes, reverse):
    """(output N x H, hy, cy (None but for LSTM), State) of one layer direction on cuDNN, or None when
    cuDNN failed (ember's kernels run it then)."""
    perm = xp.asarray(reversal(sizes)) if reverse else None
    try:
        got = _forward(xp, mode, x if perm is None else xp.take(x, perm, axis=0), w_ih, w_hh, b_ih, b_hh, h0, c0,
                       sizes)
    except _binding.CudnnError as e:
        _fail(e)
        return None
    out, hy, cy, state = got
    state.perm = perm
    return (out if perm is None else xp.take(out, perm, axis=0)), hy, cy, state


def _forward(xp, mode, x, w_ih, w_hh, b_ih, b_hh, h0, c0, sizes):
    N, I = x.shape
    H = w_hh.shape[1]
    sizes = [int(s) for s in sizes]
    T, B = len(sizes), sizes[0]
    lengths = [sum(1 for s in sizes if s > b) for b in range(B)]
    dt = _DATA_TYPES[x.dtype]
    layer = _layer(mode, I, H, b_ih is not None or b_hh is not None, x.dtype)
    handle = _binding._handle()
    s = State()
    s.layer, s.lengths = layer, xp.asarray(np.array(lengths, np.int32))
    s.x_desc, s.y_desc = _data_desc(dt, T, B, I, lengths), _data_desc(dt, T, B, H, lengths)
    s.h_desc = _state_desc(dt, B, H)
    s.space = layer.weight_space(handle, xp)
    layer.pack(s.space, w_ih, w_hh, b_ih, b_hh)
    work, reserve = ctypes.c_size_t(), ctypes.c_size_t()
    _check(_lib().cudnnGetRNNTempSpaceSizes(handle, layer.desc.handle, _TRAINING, s.x_desc.handle,
                                            ctypes.byref(work), ctypes.byref(reserve)), "cudnnGetRNNTempSpaceSizes")
    workspace = xp.empty(max(work.value, 1), np.uint8)
    s.reserve = xp.empty(max(reserve.value, 1), np.uint8)
    s.x = xp.ascontiguousarray(x)
    s.y = xp.empty((N, H), x.dtype)
    s.h0 = None if h0 is None else xp.ascontiguousarray(h0)
    s.c0 = None if c0 is None else xp.ascontiguousarray(c0)
    hy = xp.empty((B, H), x.dtype)
    lstm = mode == 2
    cy = xp.empty((B, H), x.dtype) if lstm else None
    _check(_lib().cudnnRNNForward(
        handle, layer.desc.handle, _TRAINING, _ptr(s.lengths), s.x_desc.handle, _ptr(s.x), s.y_desc.handle,
        _ptr(s.y), s.h_desc.handle, _ptr(s.h0), _ptr(hy), s.h_desc.handle, _ptr(s.c0) if lstm else None, _ptr(cy),
        s.space.nbytes, _ptr(s.space), work.value, _ptr(workspace), reserve.value, _ptr(s.reserve)),
        "cudnnRNNForward")
    return s.y, hy, cy, s


def backward(xp, s, grad_output, grad_hy, grad_cy, need_weights):
    """(grad_input N x I, grad_hx, grad_cx, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh) of ``forward``'s layer
    (the weight gradients None unless ``need_weights``)."""
    layer = s.layer
    handle = _binding._handle()
    N, H = s.y.shape
    B = grad_hy.shape[0] if grad_hy is not None else int(s.lengths.shape[0])
    lstm = layer.mode == 2
    if grad_output is None:
        dy = xp.zeros((N, H), s.y.dtype)
    elif s.perm is not None:  # into the reversed batch's row order
        dy = xp.take(grad_output.astype(s.y.dtype), s.perm, axis=0)
    else:
        dy = xp.ascontiguousarray(grad_output.astype(s.y.dtype))
    dhy = None if grad_hy is None else xp.ascontiguousarray(grad_hy.astype(s.y.dtype))
    dcy = None if grad_cy is None or not lstm else xp.ascontiguousarray(grad_cy.astype(s.y.dtype))
    dx = xp.empty(s.x.shape, s.x.dtype)
    dhx = xp.empty((B, H), s.y.dtype)
    dcx = xp.empty((B, H), s.y.dtype) if lstm else None
    work, reserve = ctypes.c_size_t(), ctypes.c_size_t()
    _check(_lib().cudnnGetRNNTempSpaceSizes(handle, layer.desc.handle, _TRAINING, s.x_desc.handle,
                                            ctypes.byref(work), ctypes.byref(reserve)), "cudnnGetRNNTempSpaceSizes")
    workspace = xp.empty(max(work.value, 1), np.uint8)
    c_desc = s.h_desc.handle
    _check(_lib().cudnnRNNBackwardData_v8(
        handle, layer.desc.handle, _ptr(s.lengths), s.y_desc.handle, _ptr(s.y), _ptr(dy), s.x_desc.handle, _ptr(dx),
        s.h_desc.handle, _ptr(s.h0), _ptr(dhy), _ptr(dhx), c_desc, _ptr(s.c0) if lstm else None,
        _ptr(dcy), _ptr(dcx), s.space.nbytes, _ptr(s.space), work.value, _ptr(workspace), s.reserve.nbytes,
        _ptr(s.reserve)), "cudnnRNNBackwardData_v8")
    grads = (None, None, None, None)
    if need_weights:
        dspace = xp.zeros(s.space.shape, s.space.dtype)
        _check(_lib().cudnnRNNBackwardWeights_v8(
            handle, layer.desc.handle, _WGRAD_SET, _ptr(s.lengths), s.x_desc.handle, _ptr(s.x), s.h_desc.handle,
            _ptr(s.h0), s.y_desc.handle, _ptr(s.y), s.space.nbytes, _ptr(dspace), work.value, _ptr(workspace),
            s.reserve.nbytes, _ptr(s.reserve)), "cudnnRNNBackwardWeights_v8")
        grads = layer.unpack(dspace)
    if s.perm is not None:
        dx = xp.take(dx, s.perm, axis=0)
    return (dx, dhx, dcx) + tuple(grads)
