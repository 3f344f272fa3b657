"""Embedding and EmbeddingBag (2D input: fixed-size bags) against torch.nn. The inputs are indices, so only
the weight gradient is compared (gradchecks w.r.t. the weight are in test_embedding.py)."""


def _indices(shape, high):
    return lambda rng: rng.randint(0, high, size=shape).astype("int64")


def _case(name, module, args, shape, high, **extra):
    case = dict(name=name, module=module, args=args, input_fn=_indices(shape, high), input_grad=False,
                check_gradcheck=False)
    case.update(extra)
    return case


CASES = [
    _case("Embedding", "Embedding", (10, 3), (2, 4), 10, repr="Embedding(10, 3)"),
    _case("Embedding_1d", "Embedding", (7, 4), (9,), 7),
    _case("Embedding_3d_indices", "Embedding", (6, 2), (2, 3, 2), 6),
    _case("Embedding_padding_idx", "Embedding", (10, 3), (3, 4), 4, kwargs=dict(padding_idx=2),
          repr="Embedding(10, 3, padding_idx=2)"),
    _case("Embedding_max_norm", "Embedding", (8, 4), (2, 5), 8, kwargs=dict(max_norm=1.0),
          repr="Embedding(8, 4, max_norm=1.0)"),
    _case("Embedding_max_norm_l1", "Embedding", (8, 4), (3, 3), 8, kwargs=dict(max_norm=1.5, norm_type=1),
          repr="Embedding(8, 4, max_norm=1.5, norm_type=1)"),
    _case("Embedding_scale_grad_by_freq", "Embedding", (5, 3), (4, 6), 5, kwargs=dict(scale_grad_by_freq=True),
          repr="Embedding(5, 3, scale_grad_by_freq=True)"),
    _case("Embedding_padding_and_freq", "Embedding", (5, 3), (4, 6), 5,
          kwargs=dict(padding_idx=0, scale_grad_by_freq=True)),
    _case("EmbeddingBag_mean", "EmbeddingBag", (10, 3), (4, 5), 10, repr="EmbeddingBag(10, 3, mode=mean)"),
    _case("EmbeddingBag_sum", "EmbeddingBag", (10, 3), (3, 4), 10, kwargs=dict(mode="sum"),
          repr="EmbeddingBag(10, 3, mode=sum)"),
    _case("EmbeddingBag_max_norm", "EmbeddingBag", (6, 4), (3, 4), 6, kwargs=dict(max_norm=1.0, norm_type=3),
          repr="EmbeddingBag(6, 4, max_norm=1.0, norm_type=3, mode=mean)"),
    # scale_grad_by_freq: torch 2.13's EmbeddingBag scales by the wrong counts; against NumPy in test_embedding.py
]
