"""Module cases for the padding layers (0.2's repr: name, space, padding tuple)."""
CASES = [
    dict(name="ReflectionPad2d", module="ReflectionPad2d", args=((1, 2, 2, 0),), input_size=(2, 3, 4, 5),
         repr="ReflectionPad2d (1, 2, 2, 0)"),
    dict(name="ReflectionPad2d_int", module="ReflectionPad2d", args=(2,), input_size=(1, 2, 3, 4),
         repr="ReflectionPad2d (2, 2, 2, 2)"),
    dict(name="ReplicationPad2d", module="ReplicationPad2d", args=((1, 2, 2, 0),), input_size=(2, 3, 4, 5),
         repr="ReplicationPad2d (1, 2, 2, 0)"),
    dict(name="ReplicationPad3d", module="ReplicationPad3d", args=((1, 0, 2, 1, 1, 2),), input_size=(1, 2, 3, 4, 3),
         repr="ReplicationPad3d (1, 0, 2, 1, 1, 2)"),
    dict(name="ZeroPad2d", module="ZeroPad2d", args=((1, 2, 0, 3),), input_size=(2, 3, 4, 5),
         repr="ZeroPad2d (1, 2, 0, 3)"),
    dict(name="ZeroPad2d_crop", module="ZeroPad2d", args=((1, -1, -2, 1),), input_size=(2, 3, 4, 5)),
    dict(name="ConstantPad2d", module="ConstantPad2d", args=(1, 3.5), input_size=(2, 3, 4, 5),
         repr="ConstantPad2d (1, 1, 1, 1)"),
]
