"""DCGAN's stride-2 layers alone: gan_jax's im2col matmuls against torch's oneDNN convolutions.

  python benchmarks/layer_speed.py [--batch=64] [--repeats=20]

Times, on the CPU, the forward pass and the forward and backward pass (gradients of the
input and the kernel) of the two large layers of `experiments/mnist_dcgan.py`: the
discriminator's (B, 14, 14, 64) -> (B, 7, 7, 128) convolution and the generator's
(B, 7, 7, 128) -> (B, 14, 14, 64) transposed convolution (4x4 kernels, stride 2), as
`gan_jax.models.resampling` computes them (jitted) and as torch's `Conv2d` and
`ConvTranspose2d` do (eager), and the bare matmul of the forward pass. Prints one JSON
line of milliseconds. Requires the `bench` extra (CPU torch).
"""

import json
import time

import jax
import jax.numpy as jnp
import numpy as np
import torch
from absl import app
from absl import flags

from gan_jax.models import resampling

_BATCH = flags.DEFINE_integer('batch', 64, 'Batch size.')
_REPEATS = flags.DEFINE_integer('repeats', 20, 'Timed calls per measurement (after 2 warm-up).')


def _milliseconds(fn) -> float:
  """Mean wall time of `fn()` over --repeats calls, after two untimed ones."""
  fn()
  fn()
  start = time.perf_counter()
  for _ in range(_REPEATS.value):
    fn()
  return (time.perf_counter() - start) / _REPEATS.value * 1e3


def _jax_times(layer, x: np.ndarray, kernel: np.ndarray) -> dict:
  """Forward, and forward plus both gradients, of a resampling function, jitted."""
  x, kernel = jnp.asarray(x), jnp.asarray(kernel)
  forward = jax.jit(layer)
  both = jax.jit(jax.grad(lambda a, k: jnp.sum(layer(a, k) ** 2), argnums=(0, 1)))
  return {'forward': _milliseconds(lambda: forward(x, kernel).block_until_ready()),
          'forward_backward': _milliseconds(lambda: jax.block_until_ready(both(x, kernel)))}


def _torch_times(module: torch.nn.Module, x: torch.Tensor) -> dict:
  """Forward, and forward plus both gradients, of a torch layer (eager)."""
  x = x.requires_grad_(True)

  def forward():
    with torch.no_grad():
      module(x)

  def forward_backward():
    (module(x) ** 2).sum().backward()

  return {'forward': _milliseconds(forward), 'forward_backward': _milliseconds(forward_backward)}


def main(argv):
  del argv
  batch = _BATCH.value
  rng = np.random.default_rng(0)
  down_x = rng.standard_normal((batch, 14, 14, 64), np.float32)
  down_k = 0.05 * rng.standard_normal((4, 4, 64, 128), np.float32)
  up_x = rng.standard_normal((batch, 7, 7, 128), np.float32)
  up_k = 0.05 * rng.standard_normal((4, 4, 128, 64), np.float32)
  patches = jnp.asarray(rng.standard_normal((batch * 49, 16 * 64), np.float32))
  weights = jnp.asarray(rng.standard_normal((16 * 64, 128), np.float32))
  matmul = jax.jit(jnp.dot)
  to_nchw = lambda a: torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2)))  # noqa: E731
  result = {
      'batch': batch, 'torch_threads': torch.get_num_threads(),
      'down': {'gan_jax': _jax_times(resampling.downsample_conv, down_x, down_k),
               'torch': _torch_times(torch.nn.Conv2d(64, 128, 4, 2, 1, bias=False),
                                     to_nchw(down_x))},
      'up': {'gan_jax': _jax_times(resampling.upsample_conv, up_x, up_k),
             'torch': _torch_times(torch.nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False),
                                   to_nchw(up_x))},
      # The down layer's forward FLOPs as one bare matmul: XLA's best case for it.
      'down_forward_matmul_only': _milliseconds(
          lambda: matmul(patches, weights).block_until_ready()),
  }
  print(json.dumps(result))


if __name__ == '__main__':
  app.run(main)
