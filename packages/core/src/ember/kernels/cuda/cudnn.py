"""cuDNN convolutions through ctypes: CuPy 14 dropped its cuDNN bindings, and the library itself is often at
hand (PyTorch's CUDA wheels bring it: the ``nvidia-cudnn-cu*`` packages).

The legacy convolution API (cudnnConvolutionForward / BackwardData / BackwardFilter, kept by cuDNN 9) on
the plans of ember/kernels/conv.py: a plain convolution from ``src`` (N, C, *I) to ``dst`` (N, O, *L) with
weight (O, C/G, *K), 2-D descriptors when the depth axis is trivial, else 3-D. Float and double compute in
their own type with FMA math only (no TF32: 0.2's float32 results), half computes in float32 ("pseudo
half", THCUNN's accumulate type). Algorithms come from cuDNN's heuristics (``cudnnGet*Algorithm_v7``), or
from timing every one once per geometry with ``ember.backends.cudnn.benchmark``; with
``ember.backends.cudnn.deterministic`` only deterministic ones are taken.

``conv.Kernels`` calls ``forward``/``backward_data``/``backward_filter`` and falls back to its own kernels
when they return False: cuDNN absent or switched off (``ember.backends.cudnn.enabled``, or the environment
variable EMBER_CUDNN=0), the fake CUDA, a geometry cuDNN does not take, or a cuDNN error (reported once
with a warning, then that geometry stays on ember's kernels).
"""
import collections
import ctypes
import glob
import os
import threading
import warnings

import numpy as np

from ember import _backend
from ember.backends import cudnn as _switches

_DATA_TYPES = {np.dtype(np.float32): 0, np.dtype(np.float64): 1, np.dtype(np.float16): 2}
_TENSOR_NCHW = 0
_CROSS_CORRELATION = 1
_DEFAULT_MATH, _FMA_MATH = 0, 3
_DETERMINISTIC = 1
_ALGO_SLOTS = 16  # more than any of cuDNN's algorithm enums has


class CudnnError(RuntimeError):
    pass


class _AlgoPerf(ctypes.Structure):
    """cudnnConvolution{Fwd,BwdData,BwdFilter}AlgoPerf_t (one layout for the three)."""
    _fields_ = [("algo", ctypes.c_int), ("status", ctypes.c_int), ("time", ctypes.c_float),
                ("memory", ctypes.c_size_t), ("determinism", ctypes.c_int), ("mathType", ctypes.c_int),
                ("reserved", ctypes.c_int * 3)]


_P, _I, _S = ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t
_IP, _SP = ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_size_t)
_PERF = ctypes.POINTER(_AlgoPerf)
_SIGNATURES = {
    "cudnnGetVersion": (ctypes.c_size_t, ()),
    "cudnnGetErrorString": (ctypes.c_char_p, (_I,)),
    "cudnnCreate": (_I, (ctypes.POINTER(_P),)),
    "cudnnDestroy": (_I, (_P,)),
    "cudnnAddTensor": (_I, (_P, _P, _P, _P, _P, _P, _P)),
    "cudnnCreateDropoutDescriptor": (_I, (ctypes.POINTER(_P),)),
    "cudnnDestroyDropoutDescriptor": (_I, (_P,)),
    "cudnnDropoutGetStatesSize": (_I, (_P, _SP)),
    "cudnnSetDropoutDescriptor": (_I, (_P, _P, ctypes.c_float, _P, _S, ctypes.c_ulonglong)),
    "cudnnSetStream": (_I, (_P, _P)),
    "cudnnCreateTensorDescriptor": (_I, (ctypes.POINTER(_P),)),
    "cudnnSetTensorNdDescriptor": (_I, (_P, _I, _I, _IP, _IP)),
    "cudnnDestroyTensorDescriptor": (_I, (_P,)),
    "cudnnCreateFilterDescriptor": (_I, (ctypes.POINTER(_P),)),
    "cudnnSetFilterNdDescriptor": (_I, (_P, _I, _I, _I, _IP)),
    "cudnnDestroyFilterDescriptor": (_I, (_P,)),
    "cudnnCreateConvolutionDescriptor": (_I, (ctypes.POINTER(_P),)),
    "cudnnSetConvolutionNdDescriptor": (_I, (_P, _I, _IP, _IP, _IP, _I, _I)),
    "cudnnSetConvolutionGroupCount": (_I, (_P, _I)),
    "cudnnSetConvolutionMathType": (_I, (_P, _I)),
    "cudnnDestroyConvolutionDescriptor": (_I, (_P,)),
    "cudnnGetConvolutionForwardAlgorithm_v7": (_I, (_P, _P, _P, _P, _P, _I, _IP, _PERF)),
    "cudnnGetConvolutionBackwardDataAlgorithm_v7": (_I, (_P, _P, _P, _P, _P, _I, _IP, _PERF)),
    "cudnnGetConvolutionBackwardFilterAlgorithm_v7": (_I, (_P, _P, _P, _P, _P, _I, _IP, _PERF)),
    "cudnnFindConvolutionForwardAlgorithm": (_I, (_P, _P, _P, _P, _P, _I, _IP, _PERF)),
    "cudnnFindConvolutionBackwardDataAlgorithm": (_I, (_P, _P, _P, _P, _P, _I, _IP, _PERF)),
    "cudnnFindConvolutionBackwardFilterAlgorithm": (_I, (_P, _P, _P, _P, _P, _I, _IP, _PERF)),
    "cudnnGetConvolutionForwardWorkspaceSize": (_I, (_P, _P, _P, _P, _P, _I, _SP)),
    "cudnnGetConvolutionBackwardDataWorkspaceSize": (_I, (_P, _P, _P, _P, _P, _I, _SP)),
    "cudnnGetConvolutionBackwardFilterWorkspaceSize": (_I, (_P, _P, _P, _P, _P, _I, _SP)),
    "cudnnConvolutionForward": (_I, (_P, _P, _P, _P, _P, _P, _P, _I, _P, _S, _P, _P, _P)),
    "cudnnConvolutionBackwardData": (_I, (_P, _P, _P, _P, _P, _P, _P, _I, _P, _S, _P, _P, _P)),
    "cudnnConvolutionBackwardFilter": (_I, (_P, _P, _P, _P, _P, _P, _P, _I, _P, _S, _P, _P, _P)),
    # recurrent layers (cudnn_rnn.py)
    "cudnnCreateRNNDescriptor": (_I, (ctypes.POINTER(_P),)),
    "cudnnDestroyRNNDescriptor": (_I, (_P,)),
    "cudnnSetRNNDescriptor_v8": (_I, (_P, _I, _I, _I, _I, _I, _I, _I, _I, _I, _I, _I, _I, _P, ctypes.c_uint32)),
    "cudnnCreateRNNDataDescriptor": (_I, (ctypes.POINTER(_P),)),
    "cudnnDestroyRNNDataDescriptor": (_I, (_P,)),
    "cudnnSetRNNDataDescriptor": (_I, (_P, _I, _I, _I, _I, _I, _IP, _P)),
    "cudnnGetRNNWeightSpaceSize": (_I, (_P, _P, _SP)),
    "cudnnGetRNNWeightParams": (_I, (_P, _P, _I, _S, _P, _I, _P, ctypes.POINTER(_P), _P, ctypes.POINTER(_P))),
    "cudnnGetRNNTempSpaceSizes": (_I, (_P, _P, _I, _P, _SP, _SP)),
    "cudnnRNNForward": (_I, (_P, _P, _I, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _P, _S, _P, _S, _P, _S, _P)),
    "cudnnRNNBackwardData_v8": (_I, (_P,) * 16 + (_S, _P, _S, _P, _S, _P)),
    "cudnnRNNBackwardWeights_v8": (_I, (_P, _P, _I, _P, _P, _P, _P, _P, _P, _P, _S, _P, _S, _P, _S, _P)),
}
# the sub-libraries of cuDNN 9, loaded before it in dependency order so that its own loading finds them
_PARTS = ("graph", "engines_precompiled", "engines_runtime_compiled", "heuristic", "ops", "cnn", "adv")


def _candidates():
    env = os.environ.get("EMBER_CUDNN_LIBRARY")
    if env:
        return [env]
    from ember.cuda import _libraries
    return _libraries.candidates("cudnn") + ["libcudnn.so.9", "libcudnn.so.8"]


def _open():
    for path in _candidates():
        try:
            folder = os.path.dirname(path)
            for part in _PARTS if folder else ():
                for f in glob.glob(os.path.join(folder, "libcudnn_{}.so.*".format(part))):
                    try:
                        ctypes.CDLL(f, mode=ctypes.RTLD_GLOBAL)
                    except OSError:
                        pass
            lib = ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
        except OSError:
            continue
        try:
            for name, (restype, argtypes) in _SIGNATURES.items():
                fn = getattr(lib, name)
                fn.restype, fn.argtypes = restype, argtypes
        except AttributeError:
            continue  # a cuDNN without the legacy convolution API or the v8 RNN API
        return lib
    return None


_lib = None
_lib_tried = False
_lock = threading.Lock()


def library():
    """The loaded cuDNN (ctypes), or None when there is none (looked for once)."""
    global _lib, _lib_tried
    if not _lib_tried:
        with _lock:
            if not _lib_tried:
                _lib = _open()
                _lib_tried = True
    return _lib


def version():
    lib = library()
    return None if lib is None else int(lib.cudnnGetVersion())


def _check(status, what):
    if status:
        raise CudnnError("{} failed: {} ({})".format(what, _lib.cudnnGetErrorString(status).decode(), status))


def _ints(values):
    return (ctypes.c_int * len(values))(*values)


class Descriptor(object):
    """A cuDNN descriptor of ``kind`` ("Tensor", "Filter", "Convolution", "Dropout", "RNN", "RNNData"): made
    by cudnnCreate<kind>Descriptor, freed with the object by cudnnDestroy<kind>Descriptor; ctypes calls
    take it as its handle."""

    def __init__(self, kind):
        if _lib is None:
            raise CudnnError("cuDNN is not available")
        self._kind = kind
        self._as_parameter_ = ctypes.c_void_p()
        create = "cudnnCreate{}Descriptor".format(kind)
        _check(getattr(_lib, create)(ctypes.byref(self._as_parameter_)), create)

    def __del__(self):
        lib = _lib
        if lib is not None and getattr(self, "_as_parameter_", None) is not None and self._as_parameter_.value:
            getattr(lib, "cudnnDestroy{}Descriptor".format(self._kind))(self._as_parameter_)


def tensor_descriptor(dims, dt, strides=None):
    """A Tensor descriptor of ``dims`` (C-contiguous strides unless given) and data type ``dt``."""
    d = Descriptor("Tensor")
    _check(_lib.cudnnSetTensorNdDescriptor(d, dt, len(dims), _ints(dims), _ints(strides or _strides(dims))),
           "cudnnSetTensorNdDescriptor")
    return d


# ---------------------------------------------------------------------- handles and descriptors
_handles = threading.local()


def _handle():
    """This thread's handle on the current device, bound to the current stream."""
    cupy = _backend.cupy
    device = cupy.cuda.runtime.getDevice()
    table = getattr(_handles, "table", None)
    if table is None:
        table = _handles.table = {}
    h = table.get(device)
    if h is None:
        h = ctypes.c_void_p()
        _check(_lib.cudnnCreate(ctypes.byref(h)), "cudnnCreate")
        table[device] = h
    _check(_lib.cudnnSetStream(h, ctypes.c_void_p(cupy.cuda.get_current_stream().ptr)), "cudnnSetStream")
    return h


def _layout(geom):
    """(x dims, y dims, w dims, pads, strides, dilations) of a plan's geometry for cuDNN, or None when the
    plan's output is not the convolution's full output (cuDNN takes only that)."""
    n, c, o, groups = geom[:4]
    src, dst, k, s, p, d = (tuple(geom[j:j + 3]) for j in range(4, 22, 3))
    for i, L, kk, ss, pp, dd in zip(src, dst, k, s, p, d):
        if (i + 2 * pp - dd * (kk - 1) - 1) // ss + 1 != L:
            return None
    first = 1 if (src[0] == dst[0] == k[0] == 1 and p[0] == 0) else 0  # the depth axis is trivial: 2-D
    return ((n, c) + src[first:], (n, o) + dst[first:], (o, c // groups) + k[first:], p[first:], s[first:],
            d[first:])


def _strides(dims):
    out, acc = [], 1
    for v in reversed(dims):
        out.append(acc)
        acc *= v
    return tuple(reversed(out))


class _Conv(object):
    """The descriptors of one geometry and dtype, and the algorithms picked for it (per direction)."""

    def __init__(self, geom, dtype):
        layout = _layout(geom)
        if layout is None:
            raise CudnnError("the plan's output is not the convolution's full output")
        xd, yd, wd, pads, strides, dils = layout
        dt = _DATA_TYPES[np.dtype(dtype)]
        compute = 1 if dt == 1 else 0  # double in double, float and half in float
        self.x, self.y = tensor_descriptor(xd, dt), tensor_descriptor(yd, dt)
        self.w = Descriptor("Filter")
        _check(_lib.cudnnSetFilterNdDescriptor(self.w, dt, _TENSOR_NCHW, len(wd), _ints(wd)),
               "cudnnSetFilterNdDescriptor")
        self.conv = Descriptor("Convolution")
        _check(_lib.cudnnSetConvolutionNdDescriptor(self.conv, len(pads), _ints(pads), _ints(strides), _ints(dils),
                                                    _CROSS_CORRELATION, compute), "cudnnSetConvolutionNdDescriptor")
        _check(_lib.cudnnSetConvolutionGroupCount(self.conv, geom[3]), "cudnnSetConvolutionGroupCount")
        # half may use tensor cores (it accumulates in float32 either way); float and double stay FMA
        _check(_lib.cudnnSetConvolutionMathType(self.conv, _DEFAULT_MATH if dt == 2 else _FMA_MATH),
               "cudnnSetConvolutionMathType")
        scalar = ctypes.c_double if dt == 1 else ctypes.c_float
        self.one, self.zero = scalar(1), scalar(0)
        self.algos = {}

    def algorithm(self, direction, handle):
        """(algorithm, workspace bytes) for direction 'fwd', 'data' or 'filter', picked once per
        (direction, benchmark, deterministic)."""
        key = (direction, bool(_switches.benchmark), bool(_switches.deterministic))
        got = self.algos.get(key)
        if got is None:
            got = self.algos[key] = self._pick(direction, handle, *key[1:])
        return got

    def _pick(self, direction, handle, benchmark, deterministic):
        name, args = {
            "fwd": ("Forward", (self.x, self.w, self.conv, self.y)),
            "data": ("BackwardData", (self.w, self.y, self.conv, self.x)),
            "filter": ("BackwardFilter", (self.x, self.y, self.conv, self.w)),
        }[direction]
        perf, count = (_AlgoPerf * _ALGO_SLOTS)(), ctypes.c_int()
        search = ("cudnnFindConvolution{}Algorithm" if benchmark else "cudnnGetConvolution{}Algorithm_v7").format(name)
        _check(getattr(_lib, search)(handle, *args, _ALGO_SLOTS, ctypes.byref(count), perf), search)
        for p in perf[:count.value]:
            if p.status == 0 and (not deterministic or p.determinism == _DETERMINISTIC):
                size = ctypes.c_size_t()
                query = "cudnnGetConvolution{}WorkspaceSize".format(name)
                if getattr(_lib, query)(handle, *args, p.algo, ctypes.byref(size)) == 0:
                    return p.algo, size.value
        raise CudnnError("no {}{} algorithm for this convolution".format(
            "deterministic " if deterministic else "", name))


_convs = collections.OrderedDict()  # (geom, dtype, device) -> _Conv, or None for a geometry cuDNN refused
_MAX_CONVS = 256


def _conv_for(geom, dtype, device):
    key = (geom, np.dtype(dtype), device)
    with _lock:
        if key in _convs:
            _convs.move_to_end(key)
            return _convs[key]
    try:
        conv = _Conv(geom, dtype)
    except CudnnError:
        conv = None  # a geometry cuDNN does not take: ember's kernels, silently (not an error)
    with _lock:
        _convs[key] = conv
        while len(_convs) > _MAX_CONVS:
            _convs.popitem(last=False)
    return conv


def _refuse(geom, dtype, device, err):
    warnings.warn("cuDNN failed on a convolution ({}); ember runs its own kernels for it instead".format(err),
                  RuntimeWarning, stacklevel=4)
    with _lock:
        _convs[(geom, np.dtype(dtype), device)] = None


def usable(dtype):
    """Whether the cuDNN path may run for data of ``dtype`` now."""
    return (_switches.enabled and not _backend.fake and np.dtype(dtype) in _DATA_TYPES
            and library() is not None)


def _run(direction, geom, dtype, call):
    cupy = _backend.cupy
    device = cupy.cuda.runtime.getDevice()
    conv = _conv_for(geom, dtype, device)
    if conv is None:
        return False
    try:
        handle = _handle()
        algo, size = conv.algorithm(direction, handle)
        workspace = cupy.empty(max(size, 1), np.uint8)
        call(conv, handle, algo, ctypes.c_void_p(workspace.data.ptr), size)
    except CudnnError as e:
        _refuse(geom, dtype, device, e)
        return False
    return True


def _ptr(a):
    return ctypes.c_void_p(a.data.ptr)


def forward(geom, x, w, y, accumulate=False):
    """y = conv(x, w) (flat C-contiguous device arrays of one dtype), or y += conv(x, w) with ``accumulate``
    (in the compute type, rounded once); False when cuDNN did not run."""
    def call(c, h, algo, ws, size):
        _check(_lib.cudnnConvolutionForward(h, ctypes.byref(c.one), c.x, _ptr(x), c.w, _ptr(w), c.conv, algo, ws,
                                            size, ctypes.byref(c.one if accumulate else c.zero), c.y, _ptr(y)),
               "cudnnConvolutionForward")
    return _run("fwd", geom, x.dtype, call)


def backward_data(geom, w, gy, gx, accumulate=False):
    """gx = the input gradient of conv for the output gradient gy (gx += it with ``accumulate``); False when
    cuDNN did not run."""
    def call(c, h, algo, ws, size):
        _check(_lib.cudnnConvolutionBackwardData(h, ctypes.byref(c.one), c.w, _ptr(w), c.y, _ptr(gy), c.conv, algo,
                                                 ws, size, ctypes.byref(c.one if accumulate else c.zero), c.x,
                                                 _ptr(gx)), "cudnnConvolutionBackwardData")
    return _run("data", geom, gy.dtype, call)


def backward_filter(geom, x, gy, gw):
    """gw = the weight gradient of conv for input x and output gradient gy; False when cuDNN did not run."""
    def call(c, h, algo, ws, size):
        _check(_lib.cudnnConvolutionBackwardFilter(h, ctypes.byref(c.one), c.x, _ptr(x), c.y, _ptr(gy), c.conv,
                                                   algo, ws, size, ctypes.byref(c.zero), c.w, _ptr(gw)),
               "cudnnConvolutionBackwardFilter")
    return _run("filter", geom, gy.dtype, call)
