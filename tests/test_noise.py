"""gan_jax/noise.py: the unrolled Threefry-2x32 and the latent noise built on it."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gan_jax import noise

# Random123's known-answer vectors for threefry2x32_20 (kat_vectors): (key, counter, output).
RANDOM123_KAT = [
    ((0x00000000, 0x00000000), (0x00000000, 0x00000000), (0x6b200159, 0x99ba4efe)),
    ((0xffffffff, 0xffffffff), (0xffffffff, 0xffffffff), (0x1cb996fc, 0xbb002be7)),
    ((0x13198a2e, 0x03707344), (0x243f6a88, 0x85a308d3), (0xc4923a9c, 0x483df7a0)),
]


@pytest.mark.parametrize('key, counter, expected', RANDOM123_KAT)
def test_threefry_matches_random123_vectors(key, counter, expected):
  out = jax.jit(noise.threefry2x32)(jnp.asarray(key, jnp.uint32),
                                    jnp.asarray([counter[0]], jnp.uint32),
                                    jnp.asarray([counter[1]], jnp.uint32))
  assert (int(out[0][0]), int(out[1][0])) == expected


@pytest.mark.parametrize('shape', [(512, 256), (7, 3), (1,), (5, 2, 3)])
@pytest.mark.parametrize('seed', [0, 1234567])
def test_latent_normal_is_jax_random_normal_bit_for_bit(shape, seed):
  key = jax.random.fold_in(jax.random.PRNGKey(seed), 11)
  np.testing.assert_array_equal(jax.jit(noise.latent_normal, static_argnums=1)(key, shape),
                                jax.random.normal(key, shape))
  np.testing.assert_array_equal(noise.random_bits32(key, shape),
                                jax.random.bits(key, shape, jnp.uint32))


def test_typed_keys_of_any_generator_give_jax_random_normal():
  for impl in ('threefry2x32', 'rbg'):
    typed = jax.random.key(3, impl=impl)
    np.testing.assert_array_equal(noise.latent_normal(typed, (4, 4)),
                                  jax.random.normal(typed, (4, 4)))


def test_the_other_threefry_layout_gives_jax_random_normal():
  key = jax.random.PRNGKey(5)
  jax.config.update('jax_threefry_partitionable', False)
  try:
    np.testing.assert_array_equal(noise.latent_normal(key, (6, 5)),
                                  jax.random.normal(key, (6, 5)))
  finally:
    jax.config.update('jax_threefry_partitionable', True)
