"""The generator's latent noise inside the step: `jax.random.normal`'s values, faster on CPU.

JAX's threefry generator lowers to a rolled loop on the CPU backend (to keep compile
times short), and there drawing the noise was a large part of a small model's step (the
profile of the VEEGAN 2-D setting, and what this module gained, are in
docs/performance.md#latent-noise). `latent_normal` computes the same Threefry-2x32 (20
rounds; Salmon et al. 2011) with the rounds unrolled, which XLA fuses into one
elementwise loop, then turns the bits into normals exactly as `jax.random.normal` does.
Under JAX's default `jax_threefry_partitionable=True` the result is bit for bit
`jax.random.normal(key, shape)` (tested); other keys and settings go to
`jax.random.normal` itself, so no run changes; only its speed does.
"""

import numpy as np
import jax
import jax.numpy as jnp
from jax import lax

# Threefry-2x32's rotation constants, alternating between the two groups of four rounds.
_ROTATIONS = ((13, 15, 26, 6), (17, 29, 16, 24))
_KEY_PARITY = np.uint32(0x1BD11BDA)


def _rotate_left(x: jax.Array, distance: int) -> jax.Array:
  return (x << np.uint32(distance)) | (x >> np.uint32(32 - distance))


def threefry2x32(key: jax.Array, x0: jax.Array, x1: jax.Array) -> tuple[jax.Array, jax.Array]:
  """Threefry-2x32 with 20 rounds of the counter pair (x0, x1) under `key` (uint32[2]).

  The same function as JAX's `threefry2x32_p` (and Random123's threefry2x32_20), with
  every round written out so the whole hash fuses into one loop.
  """
  keys = (key[0], key[1], key[0] ^ key[1] ^ _KEY_PARITY)
  x0, x1 = x0 + keys[0], x1 + keys[1]
  for block in range(5):  # 5 blocks of 4 rounds, a key injection after each block.
    for distance in _ROTATIONS[block % 2]:
      x0 = x0 + x1
      x1 = _rotate_left(x1, distance) ^ x0
    x0 = x0 + keys[(block + 1) % 3]
    x1 = x1 + keys[(block + 2) % 3] + np.uint32(block + 1)
  return x0, x1


def random_bits32(key: jax.Array, shape: tuple) -> jax.Array:
  """`jax.random.bits(key, shape, uint32)` of JAX's partitionable threefry, unrolled."""
  size = int(np.prod(shape))
  if size >= 2 ** 32:
    raise ValueError(f'random_bits32 draws fewer than 2**32 values, not shape {shape}.')
  # The counter of element i is the 64-bit pair (hi, lo) = (0, i), row-major.
  counters = lax.iota(jnp.uint32, size).reshape(shape)
  bits_hi, bits_lo = threefry2x32(key, jnp.zeros(shape, jnp.uint32), counters)
  return bits_hi ^ bits_lo


def _unrolled_path_applies(key: jax.Array) -> bool:
  """Whether `key` and JAX's settings give the stream `random_bits32` reproduces."""
  if not jax.config.jax_threefry_partitionable:
    return False  # JAX's other threefry layout: leave it to jax.random.
  if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    return str(jax.random.key_impl(key)) == 'threefry2x32'
  # A raw key is read with the default implementation.
  return (jax.config.jax_default_prng_impl == 'threefry2x32' and key.shape == (2,)
          and key.dtype == jnp.uint32)


def latent_normal(key: jax.Array, shape: tuple) -> jax.Array:
  """Standard normal float32 noise: `jax.random.normal(key, shape)`, bit for bit.

  Threefry keys (raw uint32[2] or typed) under JAX's default partitionable layout take
  the unrolled path; any other key or setting is handed to `jax.random.normal` itself.
  """
  if not _unrolled_path_applies(key):
    return jax.random.normal(key, shape, jnp.float32)
  if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):
    key = jax.random.key_data(key)
  # jax.random.uniform's construction: 23 random mantissa bits under exponent 0 give a
  # float in [1, 2); shifted and scaled onto [nextafter(-1, 0), 1).
  bits = random_bits32(key, shape)
  mantissa = lax.shift_right_logical(bits, np.uint32(32 - 23))
  floats = lax.bitcast_convert_type(mantissa | np.array(1.0, np.float32).view(np.uint32),
                                    jnp.float32) - np.float32(1.0)
  low = np.nextafter(np.float32(-1.0), np.float32(0.0), dtype=np.float32)
  uniform = lax.max(low, floats * (np.float32(1.0) - low) + low)
  return lax.mul(np.float32(np.sqrt(2)), lax.erf_inv(uniform))
