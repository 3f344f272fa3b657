"""Module cases for PixelShuffle."""
CASES = [
    dict(name="PixelShuffle", module="PixelShuffle", args=(2,), input_size=(2, 8, 3, 3),
         repr="PixelShuffle (upscale_factor=2)"),
    dict(name="PixelShuffle_3", module="PixelShuffle", args=(3,), input_size=(1, 9, 2, 3)),
]
