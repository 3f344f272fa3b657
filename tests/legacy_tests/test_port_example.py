"""examples/port_lua_model.py on the trained torch/demos models: it loads them (old fields, mixed tensor
types, ASCII), prints their structure, runs them and prints what they output; the face detector's
scores are checked against a NumPy forward pass of the model's weights."""
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import ember
from ember.legacy import load_lua

from _helpers.data import shared_data

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "examples", "port_lua_model.py")


def _run(*args, ok=True, env=None):
    out = subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True, text=True, timeout=300,
                         env=None if env is None else dict(os.environ, **env))
    if ok:
        assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out


def _windows(x, k):
    """C x H x W -> C x H' x W' x k x k sliding windows."""
    return np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))


def test_face_detector_with_mixed_types():
    """The 2013 face detector: SpatialConvolutionMM without dW/padW, 2-D weights, Float and Double fields."""
    path = shared_data("t7", "torch_demos", "face-detector-new_face.net_0ff0d84")
    stdout = _run(path, "--type", "double", "--seed", "5").stdout
    assert "nn.SpatialConvolutionMM(1 -> 8, 5x5)" in stdout and "nn.SpatialConvolutionMM(8 -> 64, 7x7)" in stdout
    assert "nn.SpatialMaxPooling(4x4, 4, 4)" in stdout and "nn.Linear(64 -> 2)" in stdout
    assert "input: random values in [0, 1] of size 1x32x32" in stdout  # the receptive field
    assert "output: torch.DoubleTensor of size 2" in stdout
    # the same input, and the model's forward pass in NumPy
    ember.manual_seed(5)
    x = ember.DoubleTensor(1, 32, 32).uniform_().numpy()
    m = load_lua(path).double()
    conv1, thr1, _, conv2, thr2, _, linear = m.modules
    h = np.einsum("chwij,ocij->ohw", _windows(x, 5), conv1.weight.numpy().reshape(8, 1, 5, 5))
    h = h + conv1.bias.numpy()[:, None, None]
    h = np.where(h > thr1.threshold, h, 0)
    h = h[:, :28, :28].reshape(8, 7, 4, 7, 4).max((2, 4))
    h = np.einsum("chwij,ocij->ohw", _windows(h, 7), conv2.weight.numpy().reshape(64, 8, 7, 7))
    h = (h + conv2.bias.numpy()[:, None, None]).reshape(64)
    h = np.where(h > thr2.threshold, h, 0)
    logits = linear.weight.numpy() @ h + linear.bias.numpy()
    # this version of the detector ends with the Linear layer: the script prints the two scores
    line = re.search(r"first values: (\S+) (\S+)\n", stdout)
    np.testing.assert_allclose([float(line.group(1)), float(line.group(2))], logits, rtol=1e-5)


def test_face_detector_probabilities():
    """The 2014 face detector, which ends with LogSoftMax: the script prints class probabilities."""
    path = shared_data("t7", "torch_demos", "face-detector-new_face.net_99f7dde")
    stdout = _run(path, "--type", "double").stdout
    line = re.search(r"class probabilities: 0: ([0-9.]+), 1: ([0-9.]+)", stdout)
    probs = [float(line.group(1)), float(line.group(2))]
    assert abs(sum(probs) - 1) < 2e-4
    assert "most likely class: {}".format(int(np.argmax(probs))) in stdout


def test_tracker_converted_to_ember_nn():
    """The 2014 tracker: SpatialConvolutionMap, the old SpatialLPPooling; run as legacy.nn and as ember.nn."""
    pytest.importorskip("ember.nn", reason="--to-nn needs ember-nn")
    stdout = _run(shared_data("t7", "torch_demos", "tracker_random.net_e1624d4"), "--type", "double",
                  "--to-nn").stdout
    assert "nn.SpatialConvolutionMap" in stdout and "nn.SpatialLPPooling {" in stdout
    assert "(1): nn.SpatialSubSampling" in stdout
    assert "input: random values in [0, 1] of size 3x22x22" in stdout
    assert "output: torch.DoubleTensor of size 32x1x1" in stdout
    assert "ConvolutionMap (3, 32, kernel_size=(7, 7), stride=(1, 1), connections=32)" in stdout
    assert "ember.nn output matches: max abs difference 0" in stdout


@pytest.mark.parametrize("name, kind", [("tracker_random.net_e1624d4", "double"),
                                        ("face-detector_model.net_52f6ae6", "float")])
def test_lua_models_on_the_gpu_path(name, kind):
    """--cuda (Lua's model:cuda()): the model converted to the CUDA type gives the CPU output, here on ember's
    fake CUDA (on a GPU machine tools/gpu_smoke.py runs the gpu tests)."""
    stdout = _run(shared_data("t7", "torch_demos", name), "--type", kind, "--cuda",
                  env={"EMBER_FAKE_CUDA": "1"}).stdout
    m = re.search(r"on the GPU \(torch\.cuda\.(\w+)Tensor\): output matches: max abs difference (\S+)", stdout)
    assert m and m.group(1) == kind.capitalize() and float(m.group(2)) <= (1e-10 if kind == "double" else 1e-4)


def test_road_net_on_a_normalized_image():
    pytest.importorskip("PIL")
    demos = shared_data("t7", "torch_demos")
    image = shared_data("hymenoptera", "val", "ants", "10308379_1b6c72e180.jpg")
    stdout = _run(os.path.join(demos, "road-net_u1net.net_6ca72a1"), "--image", image, "--normalize",
                  os.path.join(demos, "road-net_preproc.t7_9a93788"), "--size", "3,32,32").stdout
    assert "input: {} resized to 3x32x32".format(image) in stdout
    assert "output: torch.FloatTensor of size 12x12x12" in stdout
    assert re.search(r"min -?[0-9.]+ +max -?[0-9.]+", stdout)


def test_files_that_hold_no_model():
    demos = shared_data("t7", "torch_demos")
    out = _run(os.path.join(demos, "face-detector_face.net_3b9ec52"), ok=False)
    assert out.returncode != 0 and "holds a torch.DoubleTensor, not an nn model" in out.stderr
    out = _run(os.path.join(demos, "face-detector_face.net_cf46076"), ok=False)  # truncated, 2011
    assert out.returncode != 0 and "could not load" in out.stderr and "Traceback" not in out.stderr
