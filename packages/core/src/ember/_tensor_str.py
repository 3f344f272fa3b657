"""Printing tensors and storages in PyTorch 0.2's format.

The layout follows 0.2's torch/_tensor_str.py rule for rule, quirks included, so that printed output
matches what 0.2 users saw:
- one number format per tensor (``_number_format``): integers without decimals, fixed point with
  ``precision`` decimals, scientific notation when magnitudes span more than ``precision`` decades,
  or fixed point under a common scale factor line ``1.00000e-03 *``;
- 1-D tensors print one element per line, 2-D tensors as rows (split into ``Columns a to b`` blocks
  when wider than ``linewidth``), higher dims as 2-D slices headed ``(i ,j ,.,.) =``;
- tensors with ``threshold`` elements or more are summarized with ``edgeitems`` elements at each end.
"""
import math

import numpy as np

from ._ops import torch_function


class _PrintOptions(object):
    __slots__ = ("precision", "threshold", "edgeitems", "linewidth")

    def __init__(self):
        self.precision, self.threshold, self.edgeitems, self.linewidth = _PROFILES["default"]


_PROFILES = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, float("inf"), 3, 80),
}
PRINT_OPTS = _PrintOptions()
SCALE_FORMAT = "{:.5e} *\n"
_VDOTS = u"\u22EE"
_DDOTS = u"\u22F1"


@torch_function
def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None):
    """Set the options for printing (after NumPy's).

    precision: digits after the decimal point (default 4); threshold: element count from which tensors
    are summarized (default 1000); edgeitems: items kept at each end of a summarized dimension
    (default 3); linewidth: characters per line before matrices are split into column blocks
    (default 80); profile: 'default', 'short' or 'full' resets all four first, then the other
    arguments override it.
    """
    if profile is not None:
        try:
            values = _PROFILES[profile]
        except (KeyError, TypeError):
            raise ValueError("set_printoptions(): profile must be one of 'default', 'short' or 'full', got {!r}"
                             .format(profile)) from None
        PRINT_OPTS.precision, PRINT_OPTS.threshold, PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = values
    if precision is not None:
        PRINT_OPTS.precision = _check_count("precision", precision, 0)
    if threshold is not None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise ValueError("set_printoptions(): threshold must be a number, got {!r}".format(threshold))
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = _check_count("edgeitems", edgeitems, 1)
    if linewidth is not None:
        PRINT_OPTS.linewidth = _check_count("linewidth", linewidth, 1)


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError("set_printoptions(): {} must be an int >= {}, got {!r}".format(name, minimum, value))
    return value


# ---------------------------------------------------------------------- number format

def _exponent(x):
    """Digits before the decimal point of |x| (x > 0), 0.2's floor(log10(x)) + 1; 1 for zero."""
    return math.floor(math.log10(x)) + 1 if x != 0 else 1


def _number_format(arr, min_sz=-1):
    """(format string, scale, field width) shared by every element of ``arr`` (a host ndarray)."""
    min_sz = max(min_sz, 2)
    mag = np.abs(arr.astype(np.float64).ravel())
    bad = ~np.isfinite(mag)
    if bad.any():
        # nan/inf are printed by Python's formatting; size the field from the finite values
        finite = mag[~bad]
        mag = finite if finite.size else np.zeros(1)
        min_sz = max(min_sz, 3)
    int_mode = bool(np.all(mag == np.ceil(mag)))
    exp_min = _exponent(float(mag.min()))
    exp_max = int(_exponent(float(mag.max())))
    prec = PRINT_OPTS.precision
    scale = 1
    if int_mode:
        if exp_max > prec + 1:
            sz = max(min_sz, 7 + prec)
            fmt = "{{:11.{}e}}".format(prec)
        else:
            sz = max(min_sz, exp_max + 1)
            fmt = "{:" + str(sz) + ".0f}"
    elif exp_max - exp_min > prec:
        sz = 7 + prec
        if abs(exp_max) > 99 or abs(exp_min) > 99:
            sz += 1  # three-digit exponents
        sz = max(min_sz, sz)
        fmt = "{{:{}.{}e}}".format(sz, prec)
    else:
        if exp_max > prec + 1 or exp_max < 0:
            sz = max(min_sz, 7)
            scale = math.pow(10, exp_max - 1)
        else:
            sz = max(min_sz, 7 if exp_max == 0 else exp_max + 6)
        fmt = "{{:{}.{}f}}".format(sz, prec)
    return fmt, scale, sz


def _join(values, fmt, scale):
    return " ".join(fmt.format(v / scale) for v in values)


def _row(values, indent, fmt, scale, truncate=None):
    """One matrix row; with ``truncate``, only that many values at each end around '...'."""
    if truncate is None:
        return indent + _join(values, fmt, scale) + "\n"
    return (indent + _join(values[:truncate], fmt, scale) + " {:^5} ".format("...")
            + _join(values[-truncate:], fmt, scale) + "\n")


# ---------------------------------------------------------------------- layouts

def _vector_str(arr):
    fmt, scale, sz = _number_format(arr)
    head = ""
    indent = ""
    if scale != 1:
        head = SCALE_FORMAT.format(scale)
        indent = " "
    n = PRINT_OPTS.edgeitems
    if arr.size < PRINT_OPTS.threshold:
        return head + "\n".join(indent + fmt.format(v / scale) for v in arr.tolist()) + "\n"
    first = arr[:n].tolist()
    last = arr[-n:].tolist()
    return (head + "\n".join(indent + fmt.format(v / scale) for v in first) + "\n"
            + indent + (u"{:^" + str(sz) + "}\n").format(_VDOTS)
            + "\n".join(indent + fmt.format(v / scale) for v in last) + "\n")


def _matrix_str(arr, indent="", formatter=None, force_truncate=False):
    n = PRINT_OPTS.edgeitems
    rows, cols = arr.shape
    has_hdots = cols > 2 * n
    has_vdots = rows > 2 * n
    full = not has_hdots and not has_vdots
    if formatter is None:
        formatter = _number_format(arr, min_sz=0 if full else 5)
    fmt, scale, sz = formatter
    out = []
    if not force_truncate and (arr.size < PRINT_OPTS.threshold or full):
        per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - len(indent)) / (sz + 1))))
        row_indent = indent + (" " if scale != 1 else "")
        first = 0
        while first < cols:
            last = min(first + per_line - 1, cols - 1)
            if per_line < cols:
                # 0.2 starts every block but the one at column 1 with a blank line
                out.append(("\n" if first != 1 else "") + "Columns {} to {} \n{}".format(first, last, indent))
            if scale != 1:
                out.append(SCALE_FORMAT.format(scale))
            for values in arr[:, first:last + 1].tolist():
                out.append(row_indent + _join(values, fmt, scale) + "\n")
            first = last + 1
        return "".join(out)
    # summarized: no column blocks, and rows are not shifted under the scale line (as in 0.2)
    if scale != 1:
        out.append(SCALE_FORMAT.format(scale))
    truncate = n if has_hdots else None
    if has_vdots:
        top = arr[:n].tolist()
        bottom = arr[-n:].tolist()
        out.extend(_row(v, indent, fmt, scale, truncate) for v in top)
        if has_hdots:
            vdots = ("{:^" + str((sz + 1) * n - 1) + "}").format("...")
            out.append(indent + " ".join([vdots, u"{:^5}".format(_DDOTS), vdots]) + "\n")
        else:
            # 0.2 centres the dots in the width of a full row including its newline
            width = len(_row(top[0], "", fmt, scale))
            out.append((u"{:^" + str(width) + "}\n").format(_VDOTS))
        out.extend(_row(v, indent, fmt, scale, truncate) for v in bottom)
    else:
        out.extend(_row(v, indent, fmt, scale, truncate) for v in arr.tolist())
    return "".join(out)


def _slices(shape, summarize, n):
    """Walk the index tuples of the leading dims (all but the last two) in order, skipping the middle
    of long dims when summarizing. Yields (index, skipped, restarted): per leading dim, whether this
    step jumped over its middle, and whether it wrapped back to 0 (a carry into the dim before)."""
    lead = shape[:-2]
    k = len(lead)
    index = [0] * k
    index[-1] = -1
    while True:
        skipped = [False] * k
        restarted = [False] * k
        for i in range(k - 1, -1, -1):
            index[i] += 1
            if summarize and index[i] == n and lead[i] > 2 * n:
                index[i] = lead[i] - n
                skipped[i] = True
            if index[i] == lead[i]:
                if i == 0:
                    return
                index[i] = 0
                restarted[i] = True
            else:
                break
        yield tuple(index), skipped, restarted


def _tensor_str(arr):
    n = PRINT_OPTS.edgeitems
    shape = arr.shape
    full = not shape[-1] > 2 * n and not shape[-2] > 2 * n
    formatter = _number_format(arr, min_sz=0 if full else 3)
    summarize = arr.size >= PRINT_OPTS.threshold
    dim_sz = max(2, max(len(str(s)) for s in shape))
    dim_fmt = "{:^" + str(dim_sz) + "}"
    dot_fmt = u"{:^" + str(dim_sz + 1) + "}"
    out = []
    for index, skipped, restarted in _slices(shape, summarize, n):
        if summarize:
            if any(skipped):
                out.append("".join(dot_fmt.format("..." if s else "") for s in skipped) + "\n")
            if any(restarted):
                out.append(" " + "".join(dot_fmt.format(_VDOTS if r else "") for r in restarted) + "\n")
        if out:
            out.append("\n")
        out.append("({},.,.) = \n".format(",".join(dim_fmt.format(i) for i in index)))
        out.append(_matrix_str(arr[index], " ", formatter, summarize))
    return "".join(out)


# ---------------------------------------------------------------------- entry points

def _host_array(t):
    a = t._a
    return a.get() if t.is_cuda else a


def _str(t):
    """str() and repr() of a tensor."""
    arr = _host_array(t)
    typename = type(t)._typename
    if not arr.size:
        return "[{} with no dimension]\n".format(typename)
    if arr.ndim == 1:
        body = _vector_str(arr)
    elif arr.ndim == 2:
        body = _matrix_str(arr)
    else:
        body = _tensor_str(arr)
    device = " (GPU {})".format(t.get_device()) if t.is_cuda else ""
    return "\n{}[{} of size {}{}]\n".format(body, typename, "x".join(str(s) for s in arr.shape), device)


def _str_storage(s):
    """str() and repr() of a storage: one element per line as Python prints it (so 1.0 for floats)."""
    return " " + "\n ".join(str(v) for v in s.tolist()) + "\n[{} of size {}]".format(s._typename, s.size())
