"""BatchNorm1d/2d/3d against torch.nn (0.2 has no num_batches_tracked: the harness drops that key)."""

CASES = [
    dict(name="BatchNorm1d_2d", module="BatchNorm1d", args=(3,), input_size=(4, 3),
         repr="BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True)"),
    dict(name="BatchNorm1d_3d", module="BatchNorm1d", args=(3,), input_size=(4, 3, 5)),
    dict(name="BatchNorm1d_noaffine", module="BatchNorm1d", args=(5,), kwargs=dict(affine=False),
         input_size=(6, 5), repr="BatchNorm1d(5, eps=1e-05, momentum=0.1, affine=False)"),
    dict(name="BatchNorm1d_eps_momentum", module="BatchNorm1d", args=(3, 1e-3, 0.3), input_size=(5, 3, 2),
         repr="BatchNorm1d(3, eps=0.001, momentum=0.3, affine=True)"),
    dict(name="BatchNorm2d", module="BatchNorm2d", args=(3,), input_size=(2, 3, 4, 5),
         repr="BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True)"),
    dict(name="BatchNorm2d_noaffine", module="BatchNorm2d", args=(2,), kwargs=dict(affine=False),
         input_size=(3, 2, 3, 2)),
    dict(name="BatchNorm2d_momentum", module="BatchNorm2d", args=(2,), kwargs=dict(momentum=0.9),
         input_size=(2, 2, 3, 3)),
    dict(name="BatchNorm3d", module="BatchNorm3d", args=(2,), input_size=(2, 2, 3, 2, 3),
         repr="BatchNorm3d(2, eps=1e-05, momentum=0.1, affine=True)"),
    dict(name="BatchNorm3d_noaffine", module="BatchNorm3d", args=(2,), kwargs=dict(affine=False),
         input_size=(2, 2, 2, 2, 3)),
]
