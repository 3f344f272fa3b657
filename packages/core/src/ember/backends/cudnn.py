"""``torch.backends.cudnn`` of 0.2: switches read by the CUDA convolutions, which run on cuDNN where it is
installed (ember/kernels/cuda/cudnn.py loads it through ctypes). Usable without CUDA: ``version()`` is then
None. EMBER_CUDNN=0 in the environment starts ember with ``enabled`` False."""
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
