"""Module cases of the criteria (ember.nn.modules.loss) — see tests/_helpers/module_tests.py.

Inputs are made to avoid the kinks of the piecewise losses (gradcheck) and to meet each loss's domain
(probabilities for BCE, log-probabilities for KL, positive rates for Poisson). Differences from the
oracle (ORACLE.md and 0.2's sources), handled in tests/nn_tests/test_loss.py instead of here:
MultiLabelSoftMarginLoss(size_average=False) sums over every element in 0.2 (PyTorch 2 sums the per-sample
means); MultiMarginLoss keeps its weight as a plain attribute in 0.2 (a buffer in PyTorch 2);
TripletMarginLoss's eps enters 0.2's distance as (|a - b| + eps)^p (cases use eps=0, where both agree);
PoissonNLLLoss(log_input=False) takes log(input) in 0.2 (PyTorch 2: log(input + eps), given eps=0 here).
"""
import numpy as np


def _normal(*size, scale=1.0):
    return lambda rng: rng.standard_normal(size) * scale


def _classes(n_classes, *size):
    return lambda rng: rng.randint(0, n_classes, size).astype(np.int64)


def _signs(*size):
    return lambda rng: rng.choice([-1.0, 1.0], size)


def _uniform(lo, hi, *size):
    return lambda rng: rng.uniform(lo, hi, size)


def _log_probs(*size):
    def make(rng):
        x = rng.standard_normal(size)
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return np.log(e / e.sum(axis=1, keepdims=True))
    return make


def _probs_with_zeros(*size):
    def make(rng):
        t = rng.uniform(0.1, 1.0, size)
        t[rng.uniform(size=size) < 0.25] = 0
        return t
    return make


def _ignored(n_classes, ignore, *size):
    """Class indices with about a third of them set to ``ignore`` (never all of them)."""
    def make(rng):
        t = rng.randint(0, n_classes, size).astype(np.int64)
        t[rng.uniform(size=size) < 0.35] = ignore
        t.reshape(-1)[0] = (ignore + 1) % n_classes
        return t
    return make


def _multilabel(n, c):
    """Rows of distinct labels, ended by -1 (one row with every class, one with none)."""
    def make(rng):
        t = np.full((n, c), -1, np.int64)
        for i in range(n):
            k = c if i == 0 else (0 if i == 1 else rng.randint(1, c))
            t[i, :k] = rng.permutation(c)[:k]
        return t
    return make


def _poisson(*size):
    return lambda rng: rng.poisson(2.0, size).astype(np.float64)


def _case(name, module, input_size=None, **kw):
    case = {"name": name, "module": module, "repr": module + " (\n)"}
    if input_size is not None:
        case["input_size"] = input_size
    case.update(kw)
    return case


CASES = [
    _case("L1Loss", "L1Loss", (3, 4), target_fn=_normal(3, 4)),
    _case("L1Loss_sum", "L1Loss", (2, 3, 4), kwargs={"size_average": False}, target_fn=_normal(2, 3, 4)),
    _case("MSELoss", "MSELoss", (3, 4), target_fn=_normal(3, 4)),
    _case("MSELoss_sum", "MSELoss", (5,), args=(False,), target_fn=_normal(5)),
    _case("SmoothL1Loss", "SmoothL1Loss", (4, 5), target_fn=_normal(4, 5, scale=2.0)),
    _case("SmoothL1Loss_sum", "SmoothL1Loss", (4, 5), kwargs={"size_average": False},
          target_fn=_normal(4, 5, scale=2.0)),
    _case("SoftMarginLoss", "SoftMarginLoss", (3, 4), target_fn=_signs(3, 4)),
    _case("SoftMarginLoss_sum", "SoftMarginLoss", (6,), kwargs={"size_average": False}, target_fn=_signs(6)),
    _case("KLDivLoss", "KLDivLoss", input_fn=_log_probs(3, 5), target_fn=_probs_with_zeros(3, 5)),
    _case("KLDivLoss_sum", "KLDivLoss", input_fn=_log_probs(3, 5), kwargs={"size_average": False},
          target_fn=_probs_with_zeros(3, 5)),
    _case("BCELoss", "BCELoss", input_fn=_uniform(0.05, 0.95, 3, 4), target_fn=_uniform(0, 1, 3, 4)),
    _case("BCELoss_weight", "BCELoss", input_fn=_uniform(0.05, 0.95, 3, 4),
          kwargs={"weight": np.array([0.5, 1.0, 2.0, 0.25])}, target_fn=_uniform(0, 1, 3, 4)),
    _case("BCELoss_sum", "BCELoss", input_fn=_uniform(0.05, 0.95, 5), kwargs={"size_average": False},
          target_fn=_uniform(0, 1, 5)),
    _case("BCEWithLogitsLoss", "BCEWithLogitsLoss", (3, 4), target_fn=_uniform(0, 1, 3, 4)),
    _case("BCEWithLogitsLoss_weight_sum", "BCEWithLogitsLoss", (3, 4),
          kwargs={"weight": np.array([0.5, 1.0, 2.0, 0.25]), "size_average": False},
          target_fn=_uniform(0, 1, 3, 4)),
    _case("NLLLoss", "NLLLoss", input_fn=_log_probs(5, 4), target_fn=_classes(4, 5)),
    _case("NLLLoss_weight", "NLLLoss", (5, 4), kwargs={"weight": np.array([0.1, 1.0, 2.0, 0.7])},
          target_fn=_classes(4, 5)),
    _case("NLLLoss_ignore_index_sum", "NLLLoss", (6, 4),
          kwargs={"weight": np.array([0.1, 1.0, 2.0, 0.7]), "size_average": False, "ignore_index": 1},
          target_fn=_ignored(4, 1, 6)),
    _case("NLLLoss_ignore_index", "NLLLoss", (6, 4), kwargs={"ignore_index": 3}, target_fn=_ignored(4, 3, 6)),
    _case("NLLLoss_4d", "NLLLoss", (2, 3, 4, 5), kwargs={"weight": np.array([0.3, 1.0, 2.0])},
          target_fn=_classes(3, 2, 4, 5)),
    _case("NLLLoss2d", "NLLLoss2d", (2, 3, 3, 2), target_fn=_classes(3, 2, 3, 2)),
    _case("NLLLoss2d_ignore_index_sum", "NLLLoss2d", (2, 3, 3, 2),
          kwargs={"ignore_index": 0, "size_average": False}, target_fn=_ignored(3, 0, 2, 3, 2)),
    _case("CrossEntropyLoss", "CrossEntropyLoss", (5, 4), target_fn=_classes(4, 5)),
    _case("CrossEntropyLoss_weight_sum", "CrossEntropyLoss", (5, 4),
          kwargs={"weight": np.array([0.1, 1.0, 2.0, 0.7]), "size_average": False}, target_fn=_classes(4, 5)),
    _case("CrossEntropyLoss_ignore_index", "CrossEntropyLoss", (7, 3),
          kwargs={"weight": np.array([0.5, 1.0, 2.0]), "ignore_index": 2}, target_fn=_ignored(3, 2, 7)),
    _case("CrossEntropyLoss_4d", "CrossEntropyLoss", (2, 3, 2, 3), kwargs={"weight": np.array([0.3, 1.0, 2.0])},
          target_fn=_classes(3, 2, 2, 3)),
    _case("CrossEntropyLoss_4d_ignore_index", "CrossEntropyLoss", (2, 4, 3, 2), kwargs={"ignore_index": 1},
          target_fn=_ignored(4, 1, 2, 3, 2)),
    _case("MultiLabelMarginLoss", "MultiLabelMarginLoss", (4, 5), target_fn=_multilabel(4, 5)),
    _case("MultiLabelMarginLoss_sum", "MultiLabelMarginLoss", (4, 5), kwargs={"size_average": False},
          target_fn=_multilabel(4, 5)),
    _case("MultiLabelMarginLoss_1d", "MultiLabelMarginLoss", (5,), target_fn=lambda rng: np.array([3, 0, -1, 2, 1])),
    _case("MultiLabelSoftMarginLoss", "MultiLabelSoftMarginLoss", (3, 5),
          target_fn=lambda rng: rng.randint(0, 2, (3, 5)).astype(np.float64)),
    _case("MultiLabelSoftMarginLoss_weight", "MultiLabelSoftMarginLoss", (3, 5),
          kwargs={"weight": np.array([0.5, 1.0, 2.0, 0.25, 1.5])},
          target_fn=lambda rng: rng.randint(0, 2, (3, 5)).astype(np.float64)),
    _case("MultiMarginLoss", "MultiMarginLoss", (5, 4), target_fn=_classes(4, 5)),
    _case("MultiMarginLoss_p2_margin_sum", "MultiMarginLoss", (5, 4), kwargs={"p": 2, "margin": 0.5,
                                                                          "size_average": False},
          target_fn=_classes(4, 5)),
    _case("HingeEmbeddingLoss", "HingeEmbeddingLoss", (3, 4), target_fn=_signs(3, 4)),
    _case("HingeEmbeddingLoss_margin_sum", "HingeEmbeddingLoss", (8,), kwargs={"margin": 0.5,
                                                                             "size_average": False},
          target_fn=_signs(8)),
    _case("PoissonNLLLoss", "PoissonNLLLoss", (3, 4), input_fn=_normal(3, 4, scale=0.5), target_fn=_poisson(3, 4)),
    _case("PoissonNLLLoss_full_sum", "PoissonNLLLoss", input_fn=_normal(3, 4, scale=0.5),
          kwargs={"full": True, "size_average": False}, target_fn=_poisson(3, 4)),
    _case("PoissonNLLLoss_no_log_input_full", "PoissonNLLLoss", input_fn=_uniform(0.5, 3.0, 3, 4),
          kwargs={"log_input": False, "full": True},
          torch_kwargs={"log_input": False, "full": True, "eps": 0.0}, target_fn=_poisson(3, 4)),
    _case("CosineEmbeddingLoss", "CosineEmbeddingLoss", (4, 5), extra_inputs=[(4, 5)], target_fn=_signs(4)),
    _case("CosineEmbeddingLoss_margin_sum", "CosineEmbeddingLoss", (6, 3), extra_inputs=[(6, 3)],
          kwargs={"margin": -0.3, "size_average": False}, target_fn=_signs(6)),
    _case("MarginRankingLoss", "MarginRankingLoss", (6,), extra_inputs=[(6,)], target_fn=_signs(6)),
    _case("MarginRankingLoss_margin_sum", "MarginRankingLoss", (6,), extra_inputs=[(6,)],
          kwargs={"margin": 0.5, "size_average": False}, target_fn=_signs(6)),
    _case("TripletMarginLoss", "TripletMarginLoss", (4, 5), extra_inputs=[(4, 5), (4, 5)], kwargs={"eps": 0.0}),
    _case("TripletMarginLoss_p1_swap", "TripletMarginLoss", (5, 3), extra_inputs=[(5, 3), (5, 3)],
          kwargs={"margin": 2.0, "p": 1, "eps": 0.0, "swap": True}),
]
