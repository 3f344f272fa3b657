"""InstanceNorm1d/2d/3d against torch.nn. 0.2 always keeps running_mean/var (updated, never used) and eval()
changes nothing; torch 2.13's default (track_running_stats=False) normalises the same way and has no
buffers, so outputs and gradients compare (the running statistics are checked in test_instancenorm.py)."""

CASES = [
    dict(name="InstanceNorm1d", module="InstanceNorm1d", args=(3,), input_size=(4, 3, 5),
         repr="InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=False)"),
    dict(name="InstanceNorm1d_affine", module="InstanceNorm1d", args=(3,), kwargs=dict(affine=True),
         input_size=(2, 3, 6), repr="InstanceNorm1d(3, eps=1e-05, momentum=0.1, affine=True)"),
    dict(name="InstanceNorm2d", module="InstanceNorm2d", args=(3,), input_size=(2, 3, 4, 3),
         repr="InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False)"),
    dict(name="InstanceNorm2d_affine_eps", module="InstanceNorm2d", args=(2, 1e-3, 0.2, True),
         input_size=(3, 2, 3, 3), repr="InstanceNorm2d(2, eps=0.001, momentum=0.2, affine=True)"),
    dict(name="InstanceNorm3d", module="InstanceNorm3d", args=(2,), input_size=(2, 2, 2, 3, 2),
         repr="InstanceNorm3d(2, eps=1e-05, momentum=0.1, affine=False)"),
    dict(name="InstanceNorm3d_affine", module="InstanceNorm3d", args=(2,), kwargs=dict(affine=True),
         input_size=(1, 2, 3, 2, 2)),
]
