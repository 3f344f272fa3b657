"""CrossMapLRN2d. torch's CrossMapLRN2d is 0.2's CPU Python port, whose window never drops channel 0 and
whose backward is shifted by a channel; ember follows Lua nn / THCUNN, checked against real Lua nn results
in test_normalization.py. Here: gradcheck, forward/backward and the state_dict round trip."""

_SKIP = "torch's CrossMapLRN2d has 0.2's CPU window bug; compared with Lua nn in test_normalization.py"

CASES = [
    dict(name="CrossMapLRN2d", module="CrossMapLRN2d", args=(3,), input_size=(2, 5, 3, 3),
         skip_torch=_SKIP, repr="CrossMapLRN2d (, alpha=0.0001, beta=0.75, k=1)"),
    dict(name="CrossMapLRN2d_big_alpha", module="CrossMapLRN2d", args=(5, 0.5, 0.75, 2), input_size=(2, 7, 2, 3),
         skip_torch=_SKIP, repr="CrossMapLRN2d (, alpha=0.5, beta=0.75, k=2)"),
    dict(name="CrossMapLRN2d_even_size", module="CrossMapLRN2d", args=(4, 1.0, 0.5, 1.5), input_size=(1, 6, 2, 2),
         skip_torch=_SKIP),
]
