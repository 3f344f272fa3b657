"""Module cases of the upsampling layers (ember.nn.modules.upsampling) -- see tests/_helpers/module_tests.py.

0.2's bilinear/trilinear modes align the corners (ORACLE.md): the oracle is built with align_corners=True.
UpsamplingNearest2d / UpsamplingBilinear2d warn (deprecated in 0.2) when called."""


def _case(name, module, input_size, repr_, torch_kwargs=None, **kwargs):
    case = {"name": name, "module": module, "kwargs": kwargs, "input_size": input_size, "repr": repr_}
    if torch_kwargs is not None:
        case["torch_kwargs"] = dict(kwargs, **torch_kwargs)
    return case


_ALIGN = {"align_corners": True}

CASES = [
    _case("Upsample_nearest_scale", "Upsample", (2, 3, 3, 4), "Upsample(scale_factor=2, mode=nearest)",
          scale_factor=2),
    _case("Upsample_nearest_size", "Upsample", (1, 2, 2, 3), "Upsample(size=(6, 9), mode=nearest)", size=(6, 9)),
    _case("Upsample_nearest_5d", "Upsample", (1, 2, 2, 3, 2), "Upsample(scale_factor=2, mode=nearest)",
          scale_factor=2),
    _case("Upsample_nearest_3d_input", "Upsample", (2, 2, 4), "Upsample(scale_factor=3, mode=nearest)",
          scale_factor=3),
    _case("Upsample_bilinear_scale", "Upsample", (2, 2, 3, 4), "Upsample(scale_factor=2, mode=bilinear)",
          _ALIGN, scale_factor=2, mode="bilinear"),
    _case("Upsample_bilinear_size", "Upsample", (1, 2, 3, 4), "Upsample(size=(5, 9), mode=bilinear)", _ALIGN,
          size=(5, 9), mode="bilinear"),
    _case("Upsample_bilinear_one_row", "Upsample", (1, 1, 1, 3), "Upsample(size=(4, 5), mode=bilinear)", _ALIGN,
          size=(4, 5), mode="bilinear"),
    _case("Upsample_trilinear", "Upsample", (1, 2, 2, 3, 2), "Upsample(scale_factor=2, mode=trilinear)", _ALIGN,
          scale_factor=2, mode="trilinear"),
    _case("Upsample_trilinear_size", "Upsample", (1, 1, 2, 2, 3), "Upsample(size=(3, 4, 5), mode=trilinear)",
          _ALIGN, size=(3, 4, 5), mode="trilinear"),
    _case("UpsamplingNearest2d", "UpsamplingNearest2d", (2, 2, 3, 3), "UpsamplingNearest2d(scale_factor=2, "
          "mode=nearest)", scale_factor=2),
    _case("UpsamplingBilinear2d", "UpsamplingBilinear2d", (1, 2, 3, 3), "UpsamplingBilinear2d(size=(5, 4), "
          "mode=bilinear)", size=(5, 4)),
]
