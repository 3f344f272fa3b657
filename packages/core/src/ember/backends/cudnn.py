"""``torch.backends.cudnn`` of 0.2: switches read by the CUDA convolution/RNN paths (through CuPy's
cuDNN bindings when present). Usable without CUDA: ``version()`` is then None."""
enabled = True
benchmark = False
deterministic = False  # ember extra (0.2 had no such flag); honoured by the CuPy paths
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


def _cupy_cudnn():
    from ember._backend import cuda_available
    if not cuda_available:
        return None
    try:
        from cupy_backends.cuda.libs import cudnn  # noqa: F401
        return cudnn
    except ImportError:
        try:
            from cupy.cuda import cudnn  # older CuPy
            return cudnn
        except ImportError:
            return None


def version():
    """The cuDNN version as an int (e.g. 8902), or None when cuDNN (or CUDA) is not available."""
    lib = _cupy_cudnn()
    return None if lib is None else int(lib.getVersion())


def is_acceptable(tensor):
    """Whether the cuDNN path may run on this tensor: enabled, a CUDA float type, cuDNN present."""
    if not enabled or not getattr(tensor, "is_cuda", False):
        return False
    if type(tensor)._typename not in ("torch.cuda.FloatTensor", "torch.cuda.DoubleTensor",
                                      "torch.cuda.HalfTensor"):
        return False
    return version() is not None
