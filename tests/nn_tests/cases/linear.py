"""Module cases for Linear and Bilinear."""
CASES = [
    dict(name="Linear", module="Linear", args=(10, 8), input_size=(4, 10), repr="Linear (10 -> 8)"),
    dict(name="Linear_no_bias", module="Linear", args=(5, 3), kwargs=dict(bias=False), input_size=(6, 5),
         repr="Linear (5 -> 3)"),
    dict(name="Linear_3d_input", module="Linear", args=(4, 3), input_size=(2, 5, 4)),
    dict(name="Linear_1d_input", module="Linear", args=(4, 3), input_size=(4,)),
    dict(name="Bilinear", module="Bilinear", args=(3, 4, 5), input_size=(6, 3), extra_inputs=[(6, 4)],
         repr="Bilinear (in1_features=3, in2_features=4, out_features=5)"),
    dict(name="Bilinear_no_bias", module="Bilinear", args=(2, 3, 4), kwargs=dict(bias=False), input_size=(5, 2),
         extra_inputs=[(5, 3)]),
]
