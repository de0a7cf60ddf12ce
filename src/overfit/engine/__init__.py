"""Training engine: Keras-faithful models, loss, optimizer, and a loop that trains many models.

Two settings make an accelerator (a GPU through JAX) compute what the CPU does, set here, before any of the
engine's computations (benchmarks/accelerator.py measured both on an H200):

- float32 matrix products in float32: JAX's default on a GPU rounds their inputs to TF32 (10 bits of mantissa),
  which moved a 4-4-1 model's validation loss by 2.4e-3 against the CPU within 5 epochs;
- XLA's deterministic GPU operations: without them a scatter-add (the segment kernel's gradient) adds in a
  different order each run, and the same seed gave numbers differing from 3e-7 on.

On a CPU neither changes anything. ``JAX_DEFAULT_MATMUL_PRECISION`` or an ``xla_gpu_deterministic_ops`` of one's own
in ``XLA_FLAGS`` overrides them (benchmarks/accelerator.py --fast-gpu measures what they cost).
"""

import os

import jax

if not os.environ.get("JAX_DEFAULT_MATMUL_PRECISION"):
    jax.config.update("jax_default_matmul_precision", "highest")
if "xla_gpu_deterministic_ops" not in os.environ.get("XLA_FLAGS", ""):  # read when the backend starts
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_gpu_deterministic_ops=true".strip()
