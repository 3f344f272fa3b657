"""Module cases for the dropout layers: identities in eval mode (compared with torch); random in training
(statistics in test_dropout.py)."""
CASES = [
    dict(name="Dropout_eval", module="Dropout", args=(0.3,), input_size=(4, 5), modes=("eval",),
         repr="Dropout (p = 0.3)"),
    dict(name="Dropout_train", module="Dropout", input_size=(4, 5), random=True, repr="Dropout (p = 0.5)"),
    dict(name="Dropout_p0_train", module="Dropout", args=(0,), input_size=(4, 5), modes=("train",)),
    dict(name="Dropout2d_eval", module="Dropout2d", args=(0.2,), input_size=(2, 3, 4, 4), modes=("eval",),
         repr="Dropout2d (p=0.2)"),
    dict(name="Dropout2d_train", module="Dropout2d", input_size=(2, 3, 4, 4), random=True),
    dict(name="Dropout3d_eval", module="Dropout3d", input_size=(2, 3, 2, 3, 2), modes=("eval",),
         repr="Dropout3d (p=0.5)"),
    dict(name="Dropout3d_train", module="Dropout3d", input_size=(2, 3, 2, 3, 2), random=True),
    dict(name="AlphaDropout_eval", module="AlphaDropout", args=(0.2,), input_size=(4, 5), modes=("eval",),
         repr="AlphaDropout (p = 0.2)"),
    dict(name="AlphaDropout_train", module="AlphaDropout", input_size=(4, 5), random=True),
]
