"""Test-wide setup: 8 fake CPU devices, so sharded code paths run on a laptop or CI.

The flag must be set before JAX initialises its backends, which is why it lives here,
at import time of the first module pytest loads.
"""

import os

from xla_flags import FAST_COMPILE  # tests/ is on sys.path when pytest loads conftest

# Compile fast (see xla_flags.py) unless XLA_FLAGS already sets a level; 8 fake devices.
_flags = os.environ.get('XLA_FLAGS', '')
if '--xla_backend_optimization_level' not in _flags:
  _flags += ' ' + FAST_COMPILE
os.environ['XLA_FLAGS'] = (_flags + ' --xla_force_host_platform_device_count=8').strip()
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
# Keeps TFDS and absl quiet and offline-friendly in tests.
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '3')

import pathlib  # noqa: E402
import tempfile  # noqa: E402

# Reference statistics and downloaded weights go to a throw-away cache, not the user's.
os.environ['GAN_JAX_CACHE'] = tempfile.mkdtemp(prefix='gan_jax_test_cache_')

import pytest  # noqa: E402

SHARED_DATA = pathlib.Path(__file__).resolve().parents[1].parent / 'shared' / 'data'


@pytest.fixture
def shared_data_dir():
  """The offline data folder `../shared/data`, or a skip when this machine lacks it."""
  if not SHARED_DATA.is_dir():
    pytest.skip(f'{SHARED_DATA} not present')
  return SHARED_DATA
