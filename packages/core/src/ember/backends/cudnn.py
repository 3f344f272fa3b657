"""``torch.backends.cudnn`` of 0.2: switches read by the CUDA convolutions, which run on cuDNN where it is
installed (ember/kernels/cuda/cudnn.py loads it through ctypes), and 0.2's ctypes helpers around it
(``lib``, handles, errors, tensor/filter/dropout descriptors). Usable without CUDA: ``version()`` is then
None. EMBER_CUDNN=0 in the environment starts ember with ``enabled`` False."""
import ctypes
import os

enabled = os.environ.get("EMBER_CUDNN", "1") != "0"
benchmark = False
deterministic = False  # ember extra (0.2 had no such flag): deterministic cuDNN algorithms only
verbose = False
lib = None

CUDNN_DATA_FLOAT = 0
CUDNN_DATA_DOUBLE = 1
CUDNN_DATA_HALF = 2
CUDNN_TENSOR_NCHW = 0
CUDNN_TENSOR_NHWC = 1
CUDNN_RNN_RELU = 0
CUDNN_RNN_TANH = 1
CUDNN_LSTM = 2
CUDNN_GRU = 3
CUDNN_LINEAR_INPUT = 0
CUDNN_SKIP_INPUT = 1
CUDNN_RNN_ALGO_STANDARD = 0
CUDNN_RNN_ALGO_PERSIST_STATIC = 1
CUDNN_RNN_ALGO_PERSIST_DYNAMIC = 2


def version():
    """The cuDNN version as an int (e.g. 8902), or None when cuDNN (or CUDA) is not available."""
    from ember._backend import cuda_available, fake
    if not cuda_available or fake:
        return None
    from ember.kernels.cuda import cudnn
    return cudnn.version()


def is_acceptable(tensor):
    """Whether the cuDNN path may run on this tensor: enabled, a CUDA float type, cuDNN present."""
    if not enabled or not getattr(tensor, "is_cuda", False):
        return False
    if type(tensor)._typename not in ("torch.cuda.FloatTensor", "torch.cuda.DoubleTensor",
                                      "torch.cuda.HalfTensor"):
        return False
    return version() is not None


# ---------------------------------------------------------------------- 0.2's ctypes helpers

def _libcudnn():
    """The loaded cuDNN (also ``lib`` from then on); RuntimeError when there is none."""
    global lib
    if lib is None:
        from ember.kernels.cuda import cudnn as binding
        lib = binding.library()
        if lib is None:
            raise RuntimeError("cuDNN is not available: install it (e.g. pip install nvidia-cudnn-cu13) or set "
                               "EMBER_CUDNN_LIBRARY to its libcudnn.so")
    return lib


class CuDNNError(RuntimeError):
    def __init__(self, status):
        self.status = status
        super(CuDNNError, self).__init__("{}: {}".format(status, get_error_string(status)))


def get_error_string(status):
    return _libcudnn().cudnnGetErrorString(status)


def check_error(status):
    if status != 0:
        raise CuDNNError(status)


class CuDNNHandle(object):
    """A cuDNN handle on the current device."""

    def __init__(self):
        ptr = ctypes.c_void_p()
        check_error(_libcudnn().cudnnCreate(ctypes.byref(ptr)))
        self._as_parameter_ = ptr

    def __del__(self):
        if lib is not None:
            lib.cudnnDestroy(self)


_handles = {}


def get_handle():
    """The handle of the current device (one per device, made on first use)."""
    from ember import cuda
    device = cuda.current_device()
    handle = _handles.get(device)
    if handle is None:
        handle = _handles[device] = CuDNNHandle()
    return handle


_typemap = {"torch.cuda.HalfTensor": CUDNN_DATA_HALF, "torch.cuda.FloatTensor": CUDNN_DATA_FLOAT,
            "torch.cuda.DoubleTensor": CUDNN_DATA_DOUBLE}


def _data_type(tensor):
    name = tensor.type()
    if name not in _typemap:
        raise ValueError("unknown type '{}' (cuDNN takes torch.cuda.HalfTensor, FloatTensor or DoubleTensor)"
                         .format(name))
    return _typemap[name]


def c_type(tensor):
    """The ctypes type of cuDNN's scaling factors for ``tensor`` (float for half and float, double for double)."""
    return ctypes.c_double if _data_type(tensor) == CUDNN_DATA_DOUBLE else ctypes.c_float


def int_array(itr):
    values = list(itr)
    return (ctypes.c_int * len(values))(*values)


def _descriptor(kind):
    """A cuDNN descriptor of ``kind`` that frees itself (ember.kernels.cuda.cudnn.Descriptor)."""
    _libcudnn()
    from ember.kernels.cuda import cudnn as binding
    return binding.Descriptor(kind)


class TensorDescriptor(object):
    def __init__(self):
        self._desc = _descriptor("Tensor")
        self._as_parameter_ = self._desc._as_parameter_

    def set(self, tensor):
        self._type = tensor.type()
        self._size = tuple(tensor.size())
        self._stride = tuple(tensor.stride())
        check_error(lib.cudnnSetTensorNdDescriptor(self._as_parameter_, _data_type(tensor), tensor.dim(),
                                                   int_array(self._size), int_array(self._stride)))

    def as_tuple(self):
        return (self._type, self._size, self._stride)


class TensorDescriptorArray(object):
    """``N`` tensor descriptors as one C array (for per-step RNN descriptors)."""

    def __init__(self, N):
        self._descs = [_descriptor("Tensor") for _ in range(N)]
        self.ptrs = (ctypes.c_void_p * N)(*(d._as_parameter_.value for d in self._descs))
        self._as_parameter_ = self.ptrs

    def __getitem__(self, key):
        return ctypes.c_void_p(self.ptrs[key])

    def set_all(self, tensor):
        _type = _data_type(tensor)
        size, stride = int_array(tensor.size()), int_array(tensor.stride())
        for ptr in self.ptrs:
            check_error(lib.cudnnSetTensorNdDescriptor(ctypes.c_void_p(ptr), _type, tensor.dim(), size, stride))

    def set_raw(self, i, _type, _ndim, _size, _stride):
        check_error(lib.cudnnSetTensorNdDescriptor(ctypes.c_void_p(self.ptrs[i]), _type, _ndim, _size, _stride))


class FilterDescriptor(object):
    def __init__(self):
        self._desc = _descriptor("Filter")
        self._as_parameter_ = self._desc._as_parameter_

    def set(self, weight):
        self._size = tuple(weight.size())
        check_error(lib.cudnnSetFilterNdDescriptor(self._as_parameter_, _data_type(weight), CUDNN_TENSOR_NCHW,
                                                   weight.dim(), int_array(self._size)))

    def as_tuple(self):
        return tuple(self._size)


class DropoutDescriptor(object):
    """A cuDNN dropout descriptor with its random states on the current GPU (``handle``'s)."""

    def __init__(self, handle, dropout, seed):
        self._desc = _descriptor("Dropout")
        self._as_parameter_ = self._desc._as_parameter_
        self.handle, self.state = handle, None
        self.dropout, self.seed = dropout, seed
        self._set(dropout, seed)

    def set_dropout(self, dropout, seed):
        if dropout != self.dropout:
            self._set(dropout, seed)

    def _set(self, dropout, seed):
        from ember import cuda
        state_ptr, state_size = None, 0
        if dropout > 0:
            if self.state is None:
                size = ctypes.c_size_t()
                check_error(lib.cudnnDropoutGetStatesSize(self.handle, ctypes.byref(size)))
                self.state = cuda.ByteTensor(size.value)
            state_ptr, state_size = self.state.data_ptr(), self.state.numel()
        check_error(lib.cudnnSetDropoutDescriptor(self._as_parameter_, self.handle, dropout, state_ptr, state_size,
                                                  seed))
        self.dropout = dropout


class RNNDescriptor(object):
    def __init__(self, handle, hidden_size, num_layers, dropout_desc, input_mode, bidirectional, mode, datatype):
        raise NotImplementedError("cudnn.RNNDescriptor: cuDNN 9 removed cudnnSetRNNDescriptor, which this 0.2 "
                                  "helper wraps; ember's recurrent layers run on their own GPU kernels")


def descriptor(tensor, N=None):
    """A TensorDescriptor of ``tensor`` viewed as 5-D (trailing sizes of 1), or N of them."""
    padded = tuple(tensor.size()) + (1,) * (5 - tensor.dim())
    tensor = tensor.view(*padded)
    if N is not None:
        d = TensorDescriptorArray(N)
        d.set_all(tensor)
    else:
        d = TensorDescriptor()
        d.set(tensor)
    return d


def descriptor_sequence(tensor, batch_sizes):
    """One 5-D descriptor per step of a packed sequence: ``tensor``'s with the batch size of each step."""
    descriptors = TensorDescriptorArray(len(batch_sizes))
    _type = _data_type(tensor)
    pad = (1,) * (5 - tensor.dim())
    size, stride = int_array(tuple(tensor.size()) + pad), int_array(tuple(tensor.stride()) + pad)
    for i, batch_size in enumerate(batch_sizes):
        size[0] = batch_size
        descriptors.set_raw(i, _type, 5, size, stride)
    return descriptors


def add_tensor(*args):
    check_error(_libcudnn().cudnnAddTensor(*args))
