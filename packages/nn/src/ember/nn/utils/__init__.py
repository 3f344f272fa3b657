"""ember.nn.utils: clip_grad_norm, weight_norm, rnn packing (being written)."""
