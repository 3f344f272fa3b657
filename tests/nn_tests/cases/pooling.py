"""Module cases of the pooling layers (ember.nn.modules.pooling) -- see tests/_helpers/module_tests.py.

Max pooling uses inputs with distinct values spaced well apart (a tie, or two values closer than
gradcheck's step, would make the maximum's position ambiguous). Layers returning (values, indices) are
tested in test_pooling.py; MaxUnpool cases take their indices as the "target" (a LongTensor second
argument): distinct positions per plane, as a max pooling would produce. Reprs are 0.2's golden strings."""
import numpy as np


def _spread(*size):
    """A random permutation of well-separated values: no ties, no near-ties."""
    return lambda rng: rng.permutation(int(np.prod(size))).reshape(size) * 0.1 - 1.0


def _positive(*size):
    return lambda rng: rng.uniform(0.5, 2.0, size)


def _unpool_indices(lead, in_plane, out_plane):
    """Indices of distinct positions (one per input element) within each output plane."""
    def make(rng):
        n = int(np.prod(lead))
        rows = [rng.permutation(out_plane)[:in_plane] for _ in range(n)]
        return np.array(rows, np.int64).reshape(tuple(lead) + (in_plane,))
    return make


def _case(name, module, args, repr_, input_size=None, input_fn=None, **kwargs):
    case = {"name": name, "module": module, "args": args, "kwargs": kwargs, "repr": repr_}
    if input_fn is not None:
        case["input_fn"] = input_fn
    else:
        case["input_size"] = input_size
    return case


def _unpool_case(name, module, args, repr_, in_spatial, out_spatial, lead=(2, 3)):
    """MaxUnpool of an input (lead..., *in_spatial) into planes of out_spatial (the default output size)."""
    in_plane, out_plane = int(np.prod(in_spatial)), int(np.prod(out_spatial))
    make = _unpool_indices(lead, in_plane, out_plane)

    def target(rng):
        return make(rng).reshape(tuple(lead) + tuple(in_spatial))
    case = _case(name, module, args, repr_, input_size=tuple(lead) + tuple(in_spatial))
    case["target_fn"] = target
    return case


CASES = [
    # ---------------------------------------------------------------- MaxPool
    _case("MaxPool1d", "MaxPool1d", (3,), "MaxPool1d (size=3, stride=3, padding=0, dilation=1, ceil_mode=False)",
          input_fn=_spread(2, 3, 10)),
    _case("MaxPool1d_stride_pad_dilation_ceil", "MaxPool1d", (3, 2),
          "MaxPool1d (size=3, stride=2, padding=1, dilation=2, ceil_mode=True)", input_fn=_spread(1, 2, 10),
          padding=1, dilation=2, ceil_mode=True),
    _case("MaxPool2d", "MaxPool2d", (2,), "MaxPool2d (size=(2, 2), stride=(2, 2), dilation=(1, 1))",
          input_fn=_spread(2, 2, 5, 6)),
    _case("MaxPool2d_rect_pad_ceil", "MaxPool2d", ((3, 2), (2, 1)),
          "MaxPool2d (size=(3, 2), stride=(2, 1), padding=(1, 1), dilation=(1, 1))", input_fn=_spread(1, 2, 7, 5),
          padding=1, ceil_mode=True),
    _case("MaxPool2d_dilation_3d_input", "MaxPool2d", (2, 1),
          "MaxPool2d (size=(2, 2), stride=(1, 1), dilation=(2, 2))", input_fn=_spread(2, 5, 6), dilation=2),
    _case("MaxPool2d_one_side_padding", "MaxPool2d", (3, 2),
          "MaxPool2d (size=(3, 3), stride=(2, 2), dilation=(1, 1))", input_fn=_spread(1, 1, 7, 7), padding=(1, 0)),
    _case("MaxPool3d", "MaxPool3d", (2,), "MaxPool3d (size=2, stride=2, padding=0, dilation=1, ceil_mode=False)",
          input_fn=_spread(1, 2, 4, 5, 4)),
    _case("MaxPool3d_stride_pad_ceil", "MaxPool3d", ((2, 3, 2), (1, 2, 2)),
          "MaxPool3d (size=(2, 3, 2), stride=(1, 2, 2), padding=(0, 1, 1), dilation=1, ceil_mode=True)",
          input_fn=_spread(2, 1, 3, 5, 4), padding=(0, 1, 1), ceil_mode=True),
    # ---------------------------------------------------------------- AvgPool
    _case("AvgPool1d", "AvgPool1d", (3,),
          "AvgPool1d (size=(3,), stride=(3,), padding=(0,), ceil_mode=False, count_include_pad=True)",
          input_size=(2, 3, 10)),
    _case("AvgPool1d_stride_pad_ceil_exclude", "AvgPool1d", (3, 2),
          "AvgPool1d (size=(3,), stride=(2,), padding=(1,), ceil_mode=True, count_include_pad=False)",
          input_size=(1, 2, 8), padding=1, ceil_mode=True, count_include_pad=False),
    _case("AvgPool2d", "AvgPool2d", (2,),
          "AvgPool2d (size=2, stride=2, padding=0, ceil_mode=False, count_include_pad=True)", input_size=(2, 2, 5, 6)),
    _case("AvgPool2d_rect_pad_ceil", "AvgPool2d", ((3, 2), (2, 1)),
          "AvgPool2d (size=(3, 2), stride=(2, 1), padding=1, ceil_mode=True, count_include_pad=True)",
          input_size=(1, 2, 6, 5), padding=1, ceil_mode=True),
    _case("AvgPool2d_exclude_pad_3d_input", "AvgPool2d", (3, 2),
          "AvgPool2d (size=3, stride=2, padding=1, ceil_mode=False, count_include_pad=False)",
          input_size=(2, 7, 6), padding=1, count_include_pad=False),
    _case("AvgPool3d", "AvgPool3d", (2,), "AvgPool3d (size=2, stride=None)", input_size=(1, 2, 4, 5, 4)),
    _case("AvgPool3d_stride", "AvgPool3d", ((2, 3, 2), (1, 2, 1)), "AvgPool3d (size=(2, 3, 2), stride=(1, 2, 1))",
          input_size=(2, 1, 3, 5, 4)),
    _case("AvgPool3d_extras", "AvgPool3d", (3, 2), "AvgPool3d (size=3, stride=2, padding=1, ceil_mode=True, "
          "count_include_pad=False)", input_size=(1, 1, 4, 5, 6), padding=1, ceil_mode=True,
          count_include_pad=False),
    # ---------------------------------------------------------------- LPPool2d
    _case("LPPool2d", "LPPool2d", (2, 3), "LPPool2d (\n)", input_size=(2, 2, 6, 7)),
    _case("LPPool2d_fractional_norm", "LPPool2d", (1.5, (3, 2), (2, 1)), "LPPool2d (\n)",
          input_fn=_positive(1, 2, 7, 5)),
    # ---------------------------------------------------------------- adaptive
    _case("AdaptiveMaxPool1d", "AdaptiveMaxPool1d", (4,), "AdaptiveMaxPool1d (output_size=4)",
          input_fn=_spread(2, 3, 9)),
    _case("AdaptiveMaxPool2d", "AdaptiveMaxPool2d", ((3, 2),), "AdaptiveMaxPool2d (output_size=(3, 2))",
          input_fn=_spread(2, 2, 7, 5)),
    _case("AdaptiveMaxPool2d_upsampling_3d_input", "AdaptiveMaxPool2d", (4,), "AdaptiveMaxPool2d (output_size=4)",
          input_fn=_spread(2, 3, 5)),
    _case("AdaptiveAvgPool1d", "AdaptiveAvgPool1d", (4,), "AdaptiveAvgPool1d (output_size=4)",
          input_size=(2, 3, 9)),
    _case("AdaptiveAvgPool2d", "AdaptiveAvgPool2d", ((3, 4),), "AdaptiveAvgPool2d (output_size=(3, 4))",
          input_size=(2, 2, 7, 5)),
    _case("AdaptiveAvgPool2d_square_3d_input", "AdaptiveAvgPool2d", (3,), "AdaptiveAvgPool2d (output_size=3)",
          input_size=(2, 8, 4)),
    # ---------------------------------------------------------------- FractionalMaxPool2d
    _case("FractionalMaxPool2d", "FractionalMaxPool2d", (3,), "FractionalMaxPool2d (\n)",
          input_fn=_spread(2, 2, 9, 8), output_size=(4, 3),
          _random_samples=np.random.RandomState(7).uniform(size=(2, 2, 2))),
    _case("FractionalMaxPool2d_ratio", "FractionalMaxPool2d", ((2, 3),), "FractionalMaxPool2d (\n)",
          input_fn=_spread(1, 3, 8, 10), output_ratio=(0.5, 0.6),
          _random_samples=np.random.RandomState(8).uniform(size=(1, 3, 2))),
    # ---------------------------------------------------------------- MaxUnpool
    _unpool_case("MaxUnpool1d", "MaxUnpool1d", (2,), "MaxUnpool1d (size=(2,), stride=(2,), padding=(0,))",
                 (4,), (8,)),
    _unpool_case("MaxUnpool2d", "MaxUnpool2d", ((3, 2), (2, 1), (1, 0)),
                 "MaxUnpool2d (size=(3, 2), stride=(2, 1), padding=(1, 0))", (3, 2), (5, 3)),
    _unpool_case("MaxUnpool3d", "MaxUnpool3d", (2,), "MaxUnpool3d (size=(2, 2, 2), stride=(2, 2, 2), "
                 "padding=(0, 0, 0))", (1, 2, 2), (2, 4, 4), lead=(1, 2)),
]
