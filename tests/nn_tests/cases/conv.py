"""Module cases of the convolution layers (ember.nn.modules.conv) -- see tests/_helpers/module_tests.py.

Odd sizes, batch size 1, every combination of stride / padding / dilation / groups (depthwise included),
no bias, 1-D / 2-D / 3-D, plain and transposed (output_padding). Sizes are small: gradcheck runs on every
case. Reprs are 0.2's golden strings (pytorch-0.2-api.md 5b)."""


def _case(name, module, args, input_size, repr_, **kwargs):
    return {"name": name, "module": module, "args": args, "kwargs": kwargs, "input_size": input_size,
            "repr": repr_}


CASES = [
    # ---------------------------------------------------------------- Conv1d
    _case("Conv1d", "Conv1d", (3, 4, 3), (2, 3, 7), "Conv1d(3, 4, kernel_size=(3,), stride=(1,))"),
    _case("Conv1d_stride_pad", "Conv1d", (3, 4, 3), (2, 3, 8),
          "Conv1d(3, 4, kernel_size=(3,), stride=(2,), padding=(1,))", stride=2, padding=1),
    _case("Conv1d_dilation_nobias", "Conv1d", (2, 3, 2), (1, 2, 9),
          "Conv1d(2, 3, kernel_size=(2,), stride=(1,), dilation=(3,), bias=False)", dilation=3, bias=False),
    _case("Conv1d_groups", "Conv1d", (4, 6, 3), (2, 4, 5),
          "Conv1d(4, 6, kernel_size=(3,), stride=(1,), padding=(2,), groups=2)", padding=2, groups=2),
    _case("Conv1d_kernel_as_input", "Conv1d", (2, 2, 5), (3, 2, 5), "Conv1d(2, 2, kernel_size=(5,), stride=(1,))"),
    # ---------------------------------------------------------------- Conv2d
    _case("Conv2d", "Conv2d", (2, 3, 3), (2, 2, 5, 6), "Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1))"),
    _case("Conv2d_rect_stride_pad_dilation", "Conv2d", (2, 3, (3, 2)), (1, 2, 9, 6),
          "Conv2d(2, 3, kernel_size=(3, 2), stride=(2, 1), padding=(2, 1), dilation=(2, 1))",
          stride=(2, 1), padding=(2, 1), dilation=(2, 1)),
    _case("Conv2d_stride3_odd", "Conv2d", (1, 2, 2), (2, 1, 7, 8),
          "Conv2d(1, 2, kernel_size=(2, 2), stride=(3, 3), padding=(1, 1))", stride=3, padding=1),
    _case("Conv2d_groups", "Conv2d", (4, 2, 3), (1, 4, 5, 4),
          "Conv2d(4, 2, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), groups=2)", padding=1, groups=2),
    _case("Conv2d_depthwise", "Conv2d", (3, 6, 3), (2, 3, 5, 5),
          "Conv2d(3, 6, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=3, bias=False)",
          stride=2, padding=1, groups=3, bias=False),
    _case("Conv2d_1x1", "Conv2d", (3, 2, 1), (2, 3, 3, 4), "Conv2d(3, 2, kernel_size=(1, 1), stride=(1, 1))"),
    # ---------------------------------------------------------------- Conv3d
    _case("Conv3d", "Conv3d", (2, 2, 2), (1, 2, 3, 4, 3), "Conv3d(2, 2, kernel_size=(2, 2, 2), stride=(1, 1, 1))"),
    _case("Conv3d_stride_pad_dilation_groups", "Conv3d", (2, 4, (2, 3, 2)), (2, 2, 4, 5, 3),
          "Conv3d(2, 4, kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=(1, 1, 0), dilation=(2, 1, 1), groups=2)",
          stride=(1, 2, 1), padding=(1, 1, 0), dilation=(2, 1, 1), groups=2),
    # ---------------------------------------------------------------- ConvTranspose1d
    _case("ConvTranspose1d", "ConvTranspose1d", (3, 2, 3), (2, 3, 4),
          "ConvTranspose1d(3, 2, kernel_size=(3,), stride=(1,))"),
    _case("ConvTranspose1d_stride_outpad", "ConvTranspose1d", (2, 4, 3), (1, 2, 5),
          "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(2,), padding=(1,), output_padding=(1,), groups=2)",
          stride=2, padding=1, output_padding=1, groups=2),
    # ---------------------------------------------------------------- ConvTranspose2d
    _case("ConvTranspose2d", "ConvTranspose2d", (2, 3, 3), (2, 2, 3, 4),
          "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(1, 1))"),
    _case("ConvTranspose2d_stride_pad_outpad", "ConvTranspose2d", (2, 2, (3, 2)), (1, 2, 4, 3),
          "ConvTranspose2d(2, 2, kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2), "
          "bias=False)", stride=(2, 3), padding=(1, 0), output_padding=(1, 2), bias=False),
    _case("ConvTranspose2d_dilation_groups", "ConvTranspose2d", (4, 2, 2), (2, 4, 3, 3),
          "ConvTranspose2d(4, 2, kernel_size=(2, 2), stride=(1, 1), dilation=(2, 2), groups=2)",
          dilation=2, groups=2),
    _case("ConvTranspose2d_outpad_below_dilation", "ConvTranspose2d", (1, 2, 2), (1, 1, 3, 3),
          "ConvTranspose2d(1, 2, kernel_size=(2, 2), stride=(1, 1), dilation=(3, 3), output_padding=(2, 2))",
          dilation=3, output_padding=2),
    # ---------------------------------------------------------------- ConvTranspose3d
    _case("ConvTranspose3d", "ConvTranspose3d", (2, 2, 2), (1, 2, 2, 3, 2),
          "ConvTranspose3d(2, 2, kernel_size=(2, 2, 2), stride=(1, 1, 1))"),
    _case("ConvTranspose3d_stride_pad_outpad", "ConvTranspose3d", (2, 1, (2, 3, 2)), (1, 2, 2, 3, 2),
          "ConvTranspose3d(2, 1, kernel_size=(2, 3, 2), stride=(2, 2, 1), padding=(0, 1, 1), "
          "output_padding=(1, 1, 0))", stride=(2, 2, 1), padding=(0, 1, 1), output_padding=(1, 1, 0)),
]
