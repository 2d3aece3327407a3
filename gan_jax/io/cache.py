"""Where gan_jax keeps files between runs: $GAN_JAX_CACHE, else ~/.cache/gan_jax.

Downloaded extractor weights, cached reference statistics and JAX's persistent
compilation cache all live under this one root, so one variable moves them all.
"""

import os
import pathlib

import jax

CACHE_ENV = 'GAN_JAX_CACHE'


def cache_root() -> pathlib.Path:
  """$GAN_JAX_CACHE if set, else ~/.cache/gan_jax (not created here)."""
  return pathlib.Path(os.environ.get(CACHE_ENV) or pathlib.Path('~/.cache/gan_jax').expanduser())


def enable_compilation_cache() -> str:
  """Turns on JAX's persistent compilation cache in `cache_root()/xla`; returns the path.

  A restarted or repeated run then loads its compiled steps from disk instead of
  compiling them again (JAX caches programs that took at least a second to compile).
  """
  path = str(cache_root() / 'xla')
  jax.config.update('jax_compilation_cache_dir', path)
  return path
