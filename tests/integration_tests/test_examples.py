"""The examples in quick mode (the main job first): they run, learn, and write what they promise."""
import os
import re
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(REPO, "examples")


def _run(args, tmp_path, timeout=600, env=None):
    out = subprocess.run([sys.executable] + args, cwd=str(tmp_path), capture_output=True, text=True,
                         timeout=timeout, env=None if env is None else dict(os.environ, **env))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return out.stdout


def test_mnist_quick(tmp_path):
    pytest.importorskip("embervision")
    stdout = _run([os.path.join(EXAMPLES, "mnist.py"), "--quick", "--out", str(tmp_path)], tmp_path)
    line = [ln for ln in stdout.splitlines() if ln.startswith("epoch  1: validation")][0]
    accuracy = float(re.search(r"\(([0-9.]+)%\)", line).group(1))
    assert accuracy > 25.0  # one short epoch on 1,000 images: far above chance (10%)
    import ember
    state = ember.load(str(tmp_path / "mnist_lenet.pt"))
    assert state["conv1.weight"].size() == (10, 1, 5, 5)
    from PIL import Image
    img = Image.open(str(tmp_path / "mnist_validation.png"))
    assert img.size == (8 * 30 + 2, 8 * 30 + 2) and img.mode == "RGB"


def test_mnist_quick_on_the_gpu_path(tmp_path):
    """The main job's GPU code path, on ember's fake CUDA (a real GPU runs it in tools/gpu_smoke.py): it
    trains there and its CUDA checkpoint loads on a machine without a GPU through map_location."""
    pytest.importorskip("embervision")
    stdout = _run([os.path.join(EXAMPLES, "mnist.py"), "--quick", "--out", str(tmp_path)], tmp_path,
                  env={"EMBER_FAKE_CUDA": "1"})
    line = [ln for ln in stdout.splitlines() if ln.startswith("epoch  1: validation")][0]
    assert line.endswith("on the GPU") and float(re.search(r"\(([0-9.]+)%\)", line).group(1)) > 15.0
    import ember
    state = ember.load(str(tmp_path / "mnist_lenet.pt"), map_location=lambda storage, location: storage)
    assert state["conv1.weight"].type() == "torch.FloatTensor" and state["conv1.weight"].size() == (10, 1, 5, 5)


def test_hogwild_quick(tmp_path):
    pytest.importorskip("embervision")
    stdout = _run([os.path.join(EXAMPLES, "hogwild.py"), "--quick", "--processes", "2", "--epochs", "1"],
                  tmp_path)
    assert "validation loss" in stdout and stdout.count("worker ") == 2


def test_char_rnn_quick(tmp_path):
    stdout = _run([os.path.join(EXAMPLES, "char_rnn.py"), "--quick", "--save", str(tmp_path / "char_rnn.pt")],
                  tmp_path)
    before = float(stdout.split("loss before training: ")[1].split()[0])
    losses = [float(ln.split("validation loss ")[1].split()[0]) for ln in stdout.splitlines()
              if ln.startswith("epoch") and "validation loss" in ln]
    assert len(losses) == 4 and losses[-1] < losses[0] < before - 0.5  # falls from ln(vocab) ~ 4.1
    assert stdout.count("sample: ") == 4
    import ember
    state = ember.load(str(tmp_path / "char_rnn.pt"))
    assert state["rnn.weight_hh_l0"].size() == (4 * 128, 128)


def test_char_rnn_quick_on_the_gpu_path(tmp_path):
    stdout = _run([os.path.join(EXAMPLES, "char_rnn.py"), "--quick", "--cuda"], tmp_path,
                  env={"EMBER_FAKE_CUDA": "1"})
    before = float(stdout.split("loss before training: ")[1].split()[0])
    losses = [float(ln.split("validation loss ")[1].split()[0]) for ln in stdout.splitlines()
              if ln.startswith("epoch") and "validation loss" in ln]
    assert len(losses) == 4 and losses[-1] < losses[0] < before - 0.5 and stdout.count("sample: ") == 4


def test_tensor_tour(tmp_path):
    stdout = _run([os.path.join(EXAMPLES, "tensor_tour.py")], tmp_path)
    residual = float(stdout.split("gesv residual:")[1].split()[0])
    assert residual < 1e-10 and "[torch.ByteTensor of size 2x3]" in stdout
