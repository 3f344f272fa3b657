"""Module cases for the activations (ember.nn.modules.activation). 0.2's softmax modules take no dim: the
oracle gets the dim 0.2 implies (1-D/3-D input: 0, 2-D/4-D input: 1)."""


def _scaled(size, scale):
    return lambda rng: rng.standard_normal(size) * scale


CASES = [
    dict(name="ReLU", module="ReLU", input_size=(2, 3, 4), repr="ReLU ()"),
    dict(name="ReLU6", module="ReLU6", input_fn=_scaled((3, 10), 5), repr="ReLU6 ()"),
    dict(name="Threshold", module="Threshold", args=(0.1, 20), input_size=(4, 5), repr="Threshold (0.1, 20)"),
    dict(name="Threshold_value_below", module="Threshold", args=(0.3, -2.5), input_size=(2, 3, 4),
         repr="Threshold (0.3, -2.5)"),
    dict(name="Hardtanh", module="Hardtanh", input_fn=_scaled((4, 6), 2), repr="Hardtanh (min_val=-1, max_val=1)"),
    dict(name="Hardtanh_range", module="Hardtanh", args=(-0.5, 0.7), input_size=(3, 4, 2),
         repr="Hardtanh (min_val=-0.5, max_val=0.7)"),
    dict(name="ELU", module="ELU", input_fn=_scaled((3, 7), 3), repr="ELU (alpha=1.0)"),
    dict(name="ELU_alpha", module="ELU", kwargs=dict(alpha=0.7), input_size=(2, 3, 4), repr="ELU (alpha=0.7)"),
    dict(name="SELU", module="SELU", input_fn=_scaled((3, 7), 3), repr="SELU"),
    dict(name="GLU", module="GLU", input_size=(3, 6), repr="GLU (dim=-1)"),
    dict(name="GLU_dim1", module="GLU", kwargs=dict(dim=1), input_size=(3, 4, 5), repr="GLU (dim=1)"),
    dict(name="Hardshrink", module="Hardshrink", input_size=(4, 5), repr="Hardshrink (0.5)"),
    dict(name="Hardshrink_lambd", module="Hardshrink", args=(0.3,), input_size=(2, 3, 4), repr="Hardshrink (0.3)"),
    dict(name="LeakyReLU", module="LeakyReLU", input_size=(4, 5), repr="LeakyReLU (0.01)"),
    dict(name="LeakyReLU_slope", module="LeakyReLU", args=(0.2,), input_size=(2, 3, 4), repr="LeakyReLU (0.2)"),
    dict(name="LogSigmoid", module="LogSigmoid", input_fn=_scaled((4, 6), 10), repr="LogSigmoid ()"),
    dict(name="Softplus", module="Softplus", input_fn=_scaled((4, 6), 10), repr="Softplus (beta=1, threshold=20)"),
    dict(name="Softplus_beta", module="Softplus", kwargs=dict(beta=2, threshold=5), input_fn=_scaled((3, 8), 3),
         repr="Softplus (beta=2, threshold=5)"),
    dict(name="Softshrink", module="Softshrink", input_size=(4, 5), repr="Softshrink (0.5)"),
    dict(name="Softshrink_lambd", module="Softshrink", args=(0.4,), input_size=(2, 3, 4), repr="Softshrink (0.4)"),
    dict(name="PReLU", module="PReLU", input_size=(2, 3, 4), repr="PReLU (1)"),
    dict(name="PReLU_channels_4d", module="PReLU", args=(3,), input_size=(2, 3, 4, 2), repr="PReLU (3)"),
    dict(name="PReLU_channels_2d", module="PReLU", args=(5,), kwargs=dict(init=0.1), input_size=(4, 5)),
    dict(name="Softsign", module="Softsign", input_size=(4, 5), repr="Softsign ()"),
    dict(name="Tanhshrink", module="Tanhshrink", input_size=(4, 5), repr="Tanhshrink ()"),
    dict(name="Sigmoid", module="Sigmoid", input_size=(2, 3, 4), repr="Sigmoid ()"),
    dict(name="Tanh", module="Tanh", input_size=(2, 3, 4), repr="Tanh ()"),
    dict(name="Softmax", module="Softmax", input_size=(4, 7), torch_kwargs=dict(dim=1), repr="Softmax ()"),
    dict(name="Softmax2d", module="Softmax2d", input_size=(2, 3, 4, 2), repr="Softmax2d ()"),
    dict(name="Softmin", module="Softmin", input_size=(4, 7), torch_kwargs=dict(dim=1), repr="Softmin ()"),
    dict(name="Softmin_3d", module="Softmin", input_size=(3, 4, 2), torch_kwargs=dict(dim=0)),
    dict(name="LogSoftmax", module="LogSoftmax", input_size=(4, 7), torch_kwargs=dict(dim=1), repr="LogSoftmax ()"),
    dict(name="LogSoftmax_1d", module="LogSoftmax", input_size=(9,), torch_kwargs=dict(dim=0)),
    dict(name="LogSoftmax_3d", module="LogSoftmax", input_size=(3, 4, 2), torch_kwargs=dict(dim=0)),
    dict(name="LogSoftmax_4d", module="LogSoftmax", input_size=(2, 3, 4, 2), torch_kwargs=dict(dim=1)),
    dict(name="LogSoftmax_dim_extra", module="LogSoftmax", kwargs=dict(dim=-1), input_size=(2, 3, 5),
         repr="LogSoftmax (dim=-1)"),
    # RReLU: deterministic slope (lower + upper) / 2 in eval mode; random in training (checked in test_activation)
    dict(name="RReLU_eval", module="RReLU", args=(0.1, 0.3), input_size=(4, 5), modes=("eval",),
         repr="RReLU (0.1, 0.3)"),
    dict(name="RReLU_train", module="RReLU", input_size=(4, 5), random=True,
         repr="RReLU (0.125, 0.3333333333333333)"),
]
