"""Damaged cache entries are detected and recomputed, never trusted: reference statistics
(gan_jax's own cache) and JAX's persistent compilation cache."""

import logging
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from gan_jax.metrics import evaluator as evaluator_lib
from tiny_configs import tiny_config
from xla_flags import FAST_COMPILE


class _Extractor:
  """A stand-in feature network: the flattened images are the features."""
  cache_key = 'fake-0000'

  def extract(self, images):
    features = np.asarray(images, np.float64).reshape(len(images), -1)[:, :6]
    return {'features': features, 'logits': features[:, :3]}


def _evaluator(tmp_path, calls):
  config = tiny_config(**{'eval.metrics': ('fid',), 'eval.extractor': 'digits8',
                          'eval.cache_dir': str(tmp_path)})
  rng = np.random.default_rng(0)

  def real_examples():
    calls.append(1)
    return {'x': rng.normal(size=(64, 8, 8, 1)), 'y': np.zeros(64, np.int32)}
  return evaluator_lib.Evaluator(config.eval, real_examples, {'dataset': 'fake'},
                                 extractor=_Extractor())


def _flip_a_byte(path):
  raw = bytearray(path.read_bytes())
  raw[len(raw) // 2] ^= 0xFF
  path.write_bytes(bytes(raw))


def _truncate(path):
  path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])


def _garbage(path):
  path.write_bytes(b'not a zip file at all')


def _missing_array(path):
  with np.load(path) as cached:
    arrays = {k: cached[k] for k in cached.files if k != 'cov'}
  np.savez(path, **arrays)


def _other_reference_set(path):
  with np.load(path) as cached:
    arrays = {k: cached[k] for k in cached.files}
  np.savez(path, **dict(arrays, key=np.asarray('{"dataset": "other"}')))


def _pickled_array(path):
  # An object array can only be read by unpickling: refused, so recomputed.
  with np.load(path) as cached:
    arrays = {k: cached[k] for k in cached.files}
  np.savez(path, **dict(arrays, labels=np.array([os.getcwd] * 64, dtype=object)))


@pytest.mark.parametrize('damage', [_flip_a_byte, _truncate, _garbage, _missing_array,
                                    _other_reference_set, _pickled_array],
                         ids=lambda f: f.__name__.strip('_'))
def test_a_damaged_reference_statistics_file_is_recomputed(tmp_path, caplog, damage):
  calls = []
  fresh = _evaluator(tmp_path, calls).reference()
  assert not fresh['cache_hit'] and len(calls) == 1
  path = pathlib.Path(_evaluator(tmp_path, calls).cache_path)
  damage(path)
  with caplog.at_level(logging.WARNING):
    again = _evaluator(tmp_path, calls).reference()
  assert not again['cache_hit'] and len(calls) == 2
  assert str(path) in caplog.text and 'cannot be trusted' in caplog.text
  np.testing.assert_array_equal(again['cov'], fresh['cov'])
  hit = _evaluator(tmp_path, calls).reference()  # The recomputed file replaced it.
  assert hit['cache_hit'] and len(calls) == 2
  np.testing.assert_array_equal(hit['cov'], fresh['cov'])


# Compiles one program through gan_jax's cache setting and prints its result.
_COMPILE = '''
import jax, jax.numpy as jnp
from gan_jax.io import cache
jax.config.update('jax_persistent_cache_min_compile_time_secs', 0)
jax.config.update('jax_persistent_cache_min_entry_size_bytes', 0)
cache.enable_compilation_cache()
print(jax.jit(lambda x: jnp.sin(x) @ x.T + 3)(jnp.arange(12.0).reshape(3, 4)).sum())
'''


@pytest.mark.parametrize('damage', [_flip_a_byte, _truncate, _garbage],
                         ids=lambda f: f.__name__.strip('_'))
@pytest.mark.slow
def test_a_damaged_compilation_cache_entry_is_compiled_again(tmp_path, damage):
  env = dict(os.environ, GAN_JAX_CACHE=str(tmp_path), JAX_PLATFORMS='cpu', XLA_FLAGS=FAST_COMPILE,
             PYTHONPATH=os.pathsep.join(sys.path))

  def run():
    result = subprocess.run([sys.executable, '-c', _COMPILE], env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    return result

  first = run()
  entries = [p for p in (tmp_path / 'xla').iterdir() if p.name.endswith('-cache')]
  assert entries, list((tmp_path / 'xla').iterdir())
  for entry in entries:
    damage(entry)
  second = run()
  assert second.stdout == first.stdout
  assert 'Error reading persistent compilation cache entry' in second.stderr
