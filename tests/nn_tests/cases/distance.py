"""Module cases for PairwiseDistance and CosineSimilarity (two differentiable inputs)."""
CASES = [
    # 0.2's pairwise distance is (sum (|x1 - x2| + eps)^p)^(1/p) of size (N, 1); PyTorch 2.13 adds eps to the
    # signed difference and returns (N,): checked against the 0.2 formula in test_distance.py
    dict(name="PairwiseDistance", module="PairwiseDistance", input_size=(4, 5), extra_inputs=[(4, 5)],
         skip_torch="0.2 formula differs from PyTorch 2.13 (see test_distance.py)", repr="PairwiseDistance (\n)"),
    dict(name="PairwiseDistance_p1", module="PairwiseDistance", args=(1,), input_size=(3, 6), extra_inputs=[(3, 6)],
         skip_torch="0.2 formula differs from PyTorch 2.13 (see test_distance.py)"),
    dict(name="CosineSimilarity", module="CosineSimilarity", input_size=(4, 5), extra_inputs=[(4, 5)],
         repr="CosineSimilarity (\n)"),
    dict(name="CosineSimilarity_dim0", module="CosineSimilarity", args=(0,), input_size=(6, 3),
         extra_inputs=[(6, 3)]),
    dict(name="CosineSimilarity_3d", module="CosineSimilarity", kwargs=dict(dim=2), input_size=(2, 3, 4),
         extra_inputs=[(2, 3, 4)]),
]
