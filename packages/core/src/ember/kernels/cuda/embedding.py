"""GPU paths of the embedding kernels (THCUNN's LookupTable): the weight gradient as a scatter-add of
gradient rows (``xp.add.at``), and the max-norm renormalisation of the referenced rows in place.
``idx`` is the flat index array, checked by the caller (first_out_of_range)."""
import numpy as np

from ember import _backend

from . import widened


def first_out_of_range(idx, num):
    """Position of the first index outside [0, num), or -1: one reduction and one host read."""
    bad = (idx < 0) | (idx >= num)
    if not bad.any():
        return -1
    return int(bad.argmax())


def backward(idx, go, num_weights, padding_idx, scale_grad_by_freq):
    """(num_weights, D): gw[idx[i]] += go[i] (D columns), divided by the count of idx[i] in idx when
    ``scale_grad_by_freq``, for the positions where idx[i] != padding_idx (-1: none)."""
    xp = _backend.get_array_module(go)
    rows = widened(go)
    if scale_grad_by_freq:
        counts = xp.zeros(num_weights, np.int32)
        xp.add.at(counts, idx, 1)
        rows = rows * (1.0 / counts[idx]).astype(rows.dtype)[:, None]  # the CPU kernel's rounding
    if padding_idx >= 0:
        rows = xp.where((idx == padding_idx)[:, None], rows.dtype.type(0), rows)
    gw = xp.zeros((num_weights, go.shape[1]), rows.dtype)
    xp.add.at(gw, idx, rows)
    return gw.astype(go.dtype, copy=False)


def _norms(xp, rows, norm_type):
    a = abs(rows)
    if norm_type == 1:
        return a.sum(axis=1)
    if norm_type == 2:
        return xp.sqrt((a * a).sum(axis=1))
    return (a ** norm_type).sum(axis=1) ** (1.0 / norm_type)


def renorm_(w, idx, max_norm, norm_type):
    """Rows of w (2-D, written in place) that idx refers to and whose norm_type-norm exceeds max_norm are
    scaled by max_norm / (norm + 1e-7), in double as the CPU kernel. A row that idx repeats is written once
    per occurrence, with the same values."""
    xp = _backend.get_array_module(w)
    rows = w[idx].astype(np.float64)
    norm = _norms(xp, rows, norm_type)
    scale = xp.where(norm > max_norm, max_norm / (norm + 1e-7), 1.0)
    w[idx] = (rows * scale[:, None]).astype(w.dtype)
