"""Printing in PyTorch 0.2's format: golden strings.

Every expected string is derived by hand from 0.2's torch/_tensor_str.py rules (restated here, p =
precision = 4 by default):
- E(x) = floor(log10(x)) + 1 for x > 0 (1 for 0), over |values|: exp_min = E(min), exp_max = E(max).
- all values integral: width sz = max(min_sz, exp_max + 1), format "{:sz.0f}"; or "{:11.pe}" when
  exp_max > p + 1.
- otherwise exp_max - exp_min > p: "{:sz.pe}" with sz = 7 + p (+1 for 3-digit exponents);
  exp_max > p + 1 or exp_max < 0: scale = 10**(exp_max - 1), sz = 7, a "{:.5e} *" line;
  else sz = 7 if exp_max == 0 else exp_max + 6, "{:sz.pf}".
- min_sz is 2 (3 when nan/inf occur); 5 for a summarizable matrix, 3 for a summarizable >2-D tensor.
- values in a row are joined by one space; 2-D rows under a scale line get one extra leading space.
Cases marked "docs" are printed outputs from the reference docs (pytorch-0.2-docs-zh.txt, line given),
with the leading spaces the translation kept.
"""
import math

import numpy as np
import pytest

import ember as torch


@pytest.fixture(autouse=True)
def _default_options():
    torch.set_printoptions(profile="default")
    yield
    torch.set_printoptions(profile="default")


def check(t, expected):
    assert repr(t) == expected
    assert str(t) == expected


# ---------------------------------------------------------------------- reference docs

def test_docs_rand_2x5():
    # docs line 2390: fractions < 1: exp_min = exp_max = 0 -> sz 7, "{:7.4f}"
    x = torch.FloatTensor([[0.4319, 0.6500, 0.4080, 0.8760, 0.2355],
                           [0.2609, 0.4711, 0.8486, 0.8573, 0.1029]])
    check(x, "\n"
             " 0.4319  0.6500  0.4080  0.8760  0.2355\n"
             " 0.2609  0.4711  0.8486  0.8573  0.1029\n"
             "[torch.FloatTensor of size 2x5]\n")


def test_docs_scatter_with_zeros():
    # docs line 2397: zeros give exp_min = 1, still fixed point with sz 7
    x = torch.FloatTensor([[0.4319, 0.4711, 0.8486, 0.8760, 0.2355],
                           [0.0000, 0.6500, 0.0000, 0.8573, 0.0000],
                           [0.2609, 0.0000, 0.4080, 0.0000, 0.1029]])
    check(x, "\n"
             " 0.4319  0.4711  0.8486  0.8760  0.2355\n"
             " 0.0000  0.6500  0.0000  0.8573  0.0000\n"
             " 0.2609  0.0000  0.4080  0.0000  0.1029\n"
             "[torch.FloatTensor of size 3x5]\n")


def test_docs_scatter_scalar():
    # docs line 2403: max 1.23 -> exp_max 1 -> sz 7
    z = torch.zeros(2, 4)
    z[0, 2] = 1.23
    z[1, 3] = 1.23
    check(z, "\n"
             " 0.0000  0.0000  1.2300  0.0000\n"
             " 0.0000  0.0000  0.0000  1.2300\n"
             "[torch.FloatTensor of size 2x4]\n")


def test_docs_arange_and_unfold():
    # docs lines 2865-2892: integers up to 7 -> exp_max 1 -> "{:2.0f}"
    x = torch.arange(1, 8)
    check(x, "\n 1\n 2\n 3\n 4\n 5\n 6\n 7\n[torch.FloatTensor of size 7]\n")
    check(x.unfold(0, 2, 1), "\n 1  2\n 2  3\n 3  4\n 4  5\n 5  6\n 6  7\n[torch.FloatTensor of size 6x2]\n")
    check(x.unfold(0, 2, 2), "\n 1  2\n 3  4\n 5  6\n[torch.FloatTensor of size 3x2]\n")


def test_docs_narrow_and_repeat():
    # docs lines 2008-2017 and 2280
    x = torch.Tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]])
    check(x.narrow(0, 0, 2), "\n 1  2  3\n 4  5  6\n[torch.FloatTensor of size 2x3]\n")
    check(x.narrow(1, 1, 2), "\n 2  3\n 5  6\n 8  9\n[torch.FloatTensor of size 3x2]\n")
    row = " 1  2  3  1  2  3\n"
    check(torch.Tensor([1, 2, 3]).repeat(4, 2), "\n" + row * 4 + "[torch.FloatTensor of size 4x6]\n")


def test_docs_int_tensor_zero():
    # docs line 836 (spaces lost there): all zeros -> exp_max 1 -> "{:2.0f}"
    check(torch.IntTensor(2, 4).zero_(), "\n 0  0  0  0\n 0  0  0  0\n[torch.IntTensor of size 2x4]\n")


def test_docs_3d_pool_output():
    # docs line 3454: "(0 ,.,.) = " header (dim sizes < 10 -> "{:^2}"), rows indented one space
    x = torch.Tensor([[[2, 4, 6]]])
    check(x, "\n(0 ,.,.) = \n  2  4  6\n[torch.FloatTensor of size 1x1x3]\n")


def test_docs_unpool1d_width():
    # docs line 6565: 8 columns > 2 * edgeitems -> min_sz 3 -> "{:3.0f}"
    x = torch.Tensor([[[0, 2, 0, 4, 0, 6, 0, 8]]])
    check(x, "\n(0 ,.,.) = \n   0   2   0   4   0   6   0   8\n[torch.FloatTensor of size 1x1x8]\n")


def test_docs_unpool2d_4d():
    # docs lines 6633 and 6644: 4-D headers "(0 ,0 ,.,.) = ", 16 -> exp_max 2 -> "{:3.0f}"
    x = torch.Tensor([[[[0, 0, 0, 0], [0, 6, 0, 8], [0, 0, 0, 0], [0, 14, 0, 16]]]])
    check(x, "\n(0 ,0 ,.,.) = \n"
             "   0   0   0   0\n   0   6   0   8\n   0   0   0   0\n   0  14   0  16\n"
             "[torch.FloatTensor of size 1x1x4x4]\n")
    y = torch.Tensor([[[[0, 0, 0, 0, 0], [6, 0, 8, 0, 0], [0, 0, 0, 14, 0], [16, 0, 0, 0, 0], [0, 0, 0, 0, 0]]]])
    check(y, "\n(0 ,0 ,.,.) = \n"
             "   0   0   0   0   0\n   6   0   8   0   0\n   0   0   0  14   0\n  16   0   0   0   0\n"
             "   0   0   0   0   0\n[torch.FloatTensor of size 1x1x5x5]\n")


# ---------------------------------------------------------------------- number formats

def test_integer_types_negative_and_widths():
    # |values| up to 400 -> exp_max 3 -> "{:4.0f}"
    check(torch.LongTensor([[-1, 20], [3, -400]]), "\n  -1   20\n   3 -400\n[torch.LongTensor of size 2x2]\n")
    # 255 -> exp_max 3 -> "{:4.0f}"
    check(torch.ByteTensor([0, 255, 7]), "\n   0\n 255\n   7\n[torch.ByteTensor of size 3]\n")
    check(torch.CharTensor([-128, 5]), "\n-128\n   5\n[torch.CharTensor of size 2]\n")
    check(torch.ShortTensor([[7]]), "\n 7\n[torch.ShortTensor of size 1x1]\n")


def test_integral_floats_print_without_decimals():
    check(torch.DoubleTensor([1, -2, 30]), "\n  1\n -2\n 30\n[torch.DoubleTensor of size 3]\n")


def test_large_integers_use_scientific():
    # 1234567 -> exp_max 7 > p + 1 = 5 -> "{:11.4e}"
    check(torch.LongTensor([1, 1234567]), "\n 1.0000e+00\n 1.2346e+06\n[torch.LongTensor of size 2]\n")


def test_negative_fractions():
    # max 2.25 -> exp_max 1 -> sz 7
    check(torch.FloatTensor([-1.5, 2.25]), "\n-1.5000\n 2.2500\n[torch.FloatTensor of size 2]\n")


def test_tiny_values_get_a_scale_factor_vector():
    # 0.001 and 0.002 -> exp_min = exp_max = -2 < 0 -> scale 10**-3, sz 7, one-space indent
    check(torch.FloatTensor([0.001, 0.002]), "\n1.00000e-03 *\n  1.0000\n  2.0000\n[torch.FloatTensor of size 2]\n")


def test_huge_values_get_a_scale_factor_matrix():
    # 123456 and 234567.5 -> exp_min = exp_max = 6 > 5 -> scale 10**5; rows get one extra space
    check(torch.DoubleTensor([[123456.0, 234567.5]]),
          "\n1.00000e+05 *\n  1.2346  2.3457\n[torch.DoubleTensor of size 1x2]\n")


def test_mixed_magnitudes_use_scientific():
    # exp_min = -9 (1e-10 as float32 is 1.0000000133e-10), exp_max = 11: range 20 > 4 -> "{:11.4e}"
    check(torch.FloatTensor([1e-10, 1, 1e10]),
          "\n 1.0000e-10\n 1.0000e+00\n 1.0000e+10\n[torch.FloatTensor of size 3]\n")


def test_three_digit_exponents_widen_the_field():
    # exp_max = 201 > 99 -> sz 12
    check(torch.DoubleTensor([1.5, 1e200]), "\n  1.5000e+00\n 1.0000e+200\n[torch.DoubleTensor of size 2]\n")


def test_nan_and_inf():
    # the finite 1.5 sizes the field; nan/inf force min_sz 3 (here sz 7 anyway)
    check(torch.DoubleTensor([float("nan"), 1.5, float("inf")]),
          "\n    nan\n 1.5000\n    inf\n[torch.DoubleTensor of size 3]\n")
    # no finite value: formatted as all zeros -> integral, sz = max(3, 2) = 3
    check(torch.FloatTensor([float("nan"), float("-inf")]), "\nnan\n-inf\n[torch.FloatTensor of size 2]\n")


def test_half_tensor():
    check(torch.HalfTensor([1.5, 2]), "\n 1.5000\n 2.0000\n[torch.HalfTensor of size 2]\n")


def test_non_contiguous():
    x = torch.Tensor([[1, 2], [3, 4]])
    check(x.t(), "\n 1  3\n 2  4\n[torch.FloatTensor of size 2x2]\n")
    check(torch.arange(0, 10)[2:8:3], "\n 2\n 5\n[torch.FloatTensor of size 2]\n")


def test_empty():
    check(torch.FloatTensor(), "[torch.FloatTensor with no dimension]\n")
    check(torch.LongTensor(), "[torch.LongTensor with no dimension]\n")
    check(torch.zeros(3, 0), "[torch.FloatTensor with no dimension]\n")


# ---------------------------------------------------------------------- higher dims

def test_3d_with_scale_factor():
    # one format for the whole tensor: exp_max = -2 -> scale 10**-3; each slice repeats the scale line
    # unindented, its rows get indent " " plus the scale's extra " "; slices are separated by a blank line
    x = torch.DoubleTensor([[[0.001, 0.002]], [[0.003, 0.004]]])
    check(x, "\n(0 ,.,.) = \n1.00000e-03 *\n   1.0000  2.0000\n"
             "\n(1 ,.,.) = \n1.00000e-03 *\n   3.0000  4.0000\n[torch.DoubleTensor of size 2x1x2]\n")


def test_3d_header_width_follows_largest_size():
    # a size of 10 or more still fits "{:^2}"; a size of 100 widens the index field to "{:^3}"
    x = torch.zeros(1, 100, 1)
    out = repr(x)
    assert out.startswith("\n( 0 ,.,.) = \n")


def test_4d_plain():
    x = torch.arange(0, 8).view(2, 1, 2, 2)
    # slices' rows are indented one space: " " + " 0" + " " + " 1"
    check(x, "\n(0 ,0 ,.,.) = \n  0  1\n  2  3\n"
             "\n(1 ,0 ,.,.) = \n  4  5\n  6  7\n[torch.FloatTensor of size 2x1x2x2]\n")


# ---------------------------------------------------------------------- wide matrices

def test_columns_split_by_linewidth():
    # 30 columns > 6 -> min_sz 5 -> "{:5.0f}", floor(80 / 6) = 13 columns per block; every block
    # (but one starting at column 1) is preceded by a blank line
    def rows(k):
        return (" ".join(["    1"] * k) + "\n") * 2
    expected = ("\n" + "\nColumns 0 to 12 \n" + rows(13) + "\nColumns 13 to 25 \n" + rows(13)
                + "\nColumns 26 to 29 \n" + rows(4) + "[torch.FloatTensor of size 2x30]\n")
    check(torch.ones(2, 30), expected)


def test_columns_with_linewidth_option():
    # sz 7 -> floor(20 / 8) = 2 columns per block
    torch.set_printoptions(linewidth=20)
    x = torch.FloatTensor([[0.4319, 0.6500, 0.4080, 0.8760, 0.2355],
                           [0.2609, 0.4711, 0.8486, 0.8573, 0.1029]])
    check(x, "\n"
             "\nColumns 0 to 1 \n 0.4319  0.6500\n 0.2609  0.4711\n"
             "\nColumns 2 to 3 \n 0.4080  0.8760\n 0.8486  0.8573\n"
             "\nColumns 4 to 4 \n 0.2355\n 0.1029\n"
             "[torch.FloatTensor of size 2x5]\n")


def test_columns_quirk_at_column_one():
    # 0.2 omits the blank line before a block starting at column 1 (one column per line here)
    torch.set_printoptions(linewidth=8)
    check(torch.FloatTensor([[1.5, 2.5, 3.5]]),
          "\n\nColumns 0 to 0 \n 1.5000\nColumns 1 to 1 \n 2.5000\n\nColumns 2 to 2 \n 3.5000\n"
          "[torch.FloatTensor of size 1x3]\n")


def test_columns_with_scale_factor():
    # values k/1000: exp_max -1, exp_min -2 -> scale 10**-2, sz 7; 20 columns -> min_sz 5,
    # floor(80 / 8) = 10 per block; the scale line follows each block header
    x = torch.DoubleTensor((np.arange(40) + 1).reshape(2, 20) / 1000.0)
    r00 = "  0.1000  0.2000  0.3000  0.4000  0.5000  0.6000  0.7000  0.8000  0.9000  1.0000\n"
    r10 = "  2.1000  2.2000  2.3000  2.4000  2.5000  2.6000  2.7000  2.8000  2.9000  3.0000\n"
    r01 = "  1.1000  1.2000  1.3000  1.4000  1.5000  1.6000  1.7000  1.8000  1.9000  2.0000\n"
    r11 = "  3.1000  3.2000  3.3000  3.4000  3.5000  3.6000  3.7000  3.8000  3.9000  4.0000\n"
    check(x, "\n\nColumns 0 to 9 \n1.00000e-02 *\n" + r00 + r10
             + "\nColumns 10 to 19 \n1.00000e-02 *\n" + r01 + r11 + "[torch.DoubleTensor of size 2x20]\n")


# ---------------------------------------------------------------------- summarization

def test_summarized_vector():
    # 1000 elements >= threshold: edgeitems 3 each side around "{:^4}".format("⋮") (sz 4 for 999)
    check(torch.arange(0, 1000),
          "\n   0\n   1\n   2\n \u22ee  \n 997\n 998\n 999\n[torch.FloatTensor of size 1000]\n")
    check(torch.arange(0, 999), "\n" + "".join("{:4d}\n".format(i) for i in range(999))
          + "[torch.FloatTensor of size 999]\n")


def test_summarized_matrix_both_ways():
    # 40x40: min_sz 5, 1599 -> exp_max 4 -> "{:5.0f}" joined by " "; " {:^5} ".format("...") between
    # the ends of a row; the dots row is "{:^17}" ((5 + 1) * 3 - 1) around "{:^5}".format("⋱")
    x = torch.arange(0, 1600).view(40, 40)
    vd = " " * 7 + "..." + " " * 7
    check(x, "\n"
             "    0     1     2  ...     37    38    39\n"
             "   40    41    42  ...     77    78    79\n"
             "   80    81    82  ...    117   118   119\n"
             + vd + "   \u22f1   " + vd + "\n"
             " 1480  1481  1482  ...   1517  1518  1519\n"
             " 1520  1521  1522  ...   1557  1558  1559\n"
             " 1560  1561  1562  ...   1597  1598  1599\n"
             "[torch.FloatTensor of size 40x40]\n")


def test_summarized_matrix_rows_only():
    # 500x2: min_sz 5 -> "{:5.0f}"; "⋮" centred in the width of a full row plus its newline (12)
    x = torch.arange(0, 1000).view(500, 2)
    check(x, "\n"
             "    0     1\n    2     3\n    4     5\n"
             "     \u22ee      \n"
             "  994   995\n  996   997\n  998   999\n"
             "[torch.FloatTensor of size 500x2]\n")


def test_summarized_matrix_columns_only():
    x = torch.arange(0, 1000).view(2, 500)
    check(x, "\n"
             "    0     1     2  ...    497   498   499\n"
             "  500   501   502  ...    997   998   999\n"
             "[torch.FloatTensor of size 2x500]\n")


def test_summarized_matrix_scale_line_without_row_shift():
    # summarized rows are not shifted under the scale line (0.2's quirk)
    x = torch.DoubleTensor(np.full((10, 10), 0.005))
    x[0, 0] = 0.001
    torch.set_printoptions(threshold=50)
    out = repr(x)
    lines = out.split("\n")
    # exp_max = E(0.005) = -2 -> scale 10**-3; sz 7; no extra leading space
    assert lines[1] == "1.00000e-03 *"
    assert lines[2] == " 1.0000  5.0000  5.0000  ...   5.0000  5.0000  5.0000"


def test_summarized_3d_skips_leading_dim():
    # threshold 10: 8x2x2 is summarized; dim 0 (8 > 6) jumps from 3 to 5 with a "..." line
    # ("{:^3}"); the 2x2 slices are full: format "{:3.0f}" (31 -> exp_max 2)
    torch.set_printoptions(threshold=10)
    x = torch.arange(0, 32).view(8, 2, 2)
    check(x, "\n(0 ,.,.) = \n   0   1\n   2   3\n"
             "\n(1 ,.,.) = \n   4   5\n   6   7\n"
             "\n(2 ,.,.) = \n   8   9\n  10  11\n"
             "...\n"
             "\n(5 ,.,.) = \n  20  21\n  22  23\n"
             "\n(6 ,.,.) = \n  24  25\n  26  27\n"
             "\n(7 ,.,.) = \n  28  29\n  30  31\n"
             "[torch.FloatTensor of size 8x2x2]\n")


def test_summarized_4d_marks_restarts():
    # a carry into dim 0 prints " " + "{:^3}" per leading dim, "⋮" where the dim wrapped to 0
    torch.set_printoptions(threshold=10)
    x = torch.arange(0, 16).view(2, 2, 2, 2)
    check(x, "\n(0 ,0 ,.,.) = \n   0   1\n   2   3\n"
             "\n(0 ,1 ,.,.) = \n   4   5\n   6   7\n"
             "     \u22ee \n"
             "\n(1 ,0 ,.,.) = \n   8   9\n  10  11\n"
             "\n(1 ,1 ,.,.) = \n  12  13\n  14  15\n"
             "[torch.FloatTensor of size 2x2x2x2]\n")


def test_summarized_3d_matrices():
    # 2x20x30 = 1200 elements: min_sz 3, 1199 -> sz 5; slices summarized both ways with indent " "
    x = torch.arange(0, 1200).view(2, 20, 30)
    vd = " " * 7 + "..." + " " * 7
    check(x, "\n(0 ,.,.) = \n"
             "     0     1     2  ...     27    28    29\n"
             "    30    31    32  ...     57    58    59\n"
             "    60    61    62  ...     87    88    89\n"
             " " + vd + "   \u22f1   " + vd + "\n"
             "   510   511   512  ...    537   538   539\n"
             "   540   541   542  ...    567   568   569\n"
             "   570   571   572  ...    597   598   599\n"
             "\n(1 ,.,.) = \n"
             "   600   601   602  ...    627   628   629\n"
             "   630   631   632  ...    657   658   659\n"
             "   660   661   662  ...    687   688   689\n"
             " " + vd + "   \u22f1   " + vd + "\n"
             "  1110  1111  1112  ...   1137  1138  1139\n"
             "  1140  1141  1142  ...   1167  1168  1169\n"
             "  1170  1171  1172  ...   1197  1198  1199\n"
             "[torch.FloatTensor of size 2x20x30]\n")


# ---------------------------------------------------------------------- options

def test_precision_option():
    torch.set_printoptions(precision=2)
    check(torch.FloatTensor([1.23456]), "\n   1.23\n[torch.FloatTensor of size 1]\n")


def test_profiles():
    torch.set_printoptions(profile="short")
    # short: precision 2, edgeitems 2
    check(torch.arange(0, 1000), "\n   0\n   1\n \u22ee  \n 998\n 999\n[torch.FloatTensor of size 1000]\n")
    torch.set_printoptions(profile="full")
    assert repr(torch.arange(0, 2000)).count("\n") == 2002
    torch.set_printoptions(profile="default")
    assert "\u22ee" in repr(torch.arange(0, 2000))


def test_profile_then_override():
    torch.set_printoptions(profile="full", edgeitems=1, threshold=5)
    check(torch.arange(0, 5), "\n 0\n\u22ee \n 4\n[torch.FloatTensor of size 5]\n")


def test_set_printoptions_errors():
    with pytest.raises(ValueError, match="profile must be one of"):
        torch.set_printoptions(profile="long")
    with pytest.raises(ValueError, match="edgeitems must be an int >= 1"):
        torch.set_printoptions(edgeitems=0)
    with pytest.raises(ValueError, match="threshold must be a number"):
        torch.set_printoptions(threshold="10")
    with pytest.raises(ValueError, match="precision must be an int"):
        torch.set_printoptions(precision=1.5)


def test_set_printoptions_is_a_torch_function():
    assert "set_printoptions" in dir(torch)
    assert not hasattr(torch.FloatTensor, "set_printoptions")


# ---------------------------------------------------------------------- storages

def test_storage_repr():
    # 0.2 prints each element with Python's str(): floats keep their ".0"
    s = torch.FloatStorage([1, 2.5])
    assert repr(s) == " 1.0\n 2.5\n[torch.FloatStorage of size 2]"
    assert str(s) == repr(s)
    assert repr(torch.LongStorage([1, 2, 3])) == " 1\n 2\n 3\n[torch.LongStorage of size 3]"
    assert repr(torch.ByteStorage([255])) == " 255\n[torch.ByteStorage of size 1]"
    assert repr(torch.FloatStorage()) == " \n[torch.FloatStorage of size 0]"


def test_storage_of_a_view_prints_whole_storage():
    x = torch.LongTensor([[1, 2], [3, 4]])
    assert repr(x[1].storage()) == " 1\n 2\n 3\n 4\n[torch.LongStorage of size 4]"


def test_float32_values_print_as_python_floats():
    # float32 0.1 is 0.10000000149011612 as a Python float
    assert repr(torch.FloatStorage([0.1])) == " {}\n[torch.FloatStorage of size 1]".format(float(np.float32(0.1)))
    assert math.isclose(float(repr(torch.FloatStorage([0.1])).split()[0]), 0.1, rel_tol=1e-7)
