"""ember.nn.parallel (being written)."""
