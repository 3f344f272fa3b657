"""The built-in differentiable operations on Variables, one family per file (after 0.2's
torch/autograd/_functions layout). Importing a module attaches its methods to Variable and registers
its ``ember.*`` functions for Variables."""
