"""InceptionV3 as the FID reference computes it, in flax.linen, with its PyTorch weights.

FID numbers are comparable across papers only when computed with one network: the
2015-12-05 TensorFlow Inception graph of the TTUR reference, which pytorch-fid ports to
PyTorch (`pytorch_fid/inception.py`) with weights `pt_inception-2015-12-05-6726825d.pth`.
That network differs from torchvision's InceptionV3 in three places, reproduced here:
the average pools of the A, C and first E blocks exclude padding from the mean
(`count_include_pad=False`), the last E block pools with a max instead of an average,
and the classifier has 1008 outputs. Everything else is torchvision's layout: every
convolution is bias-free, followed by BatchNorm (eps 0.001, running statistics) and ReLU.

Submodules carry the PyTorch attribute names (`Mixed_6b/branch7x7_2/conv`), so the
state dict maps onto the flax variables key by key: `.weight` of a convolution (OIHW)
becomes `kernel` (HWIO), a BatchNorm's `weight`/`bias` become `scale`/`bias` in
`params` and its running statistics `mean`/`var` in `batch_stats`.

Inputs are NHWC images in [-1, 1], as the generator makes them, of any size and with
1 (tiled to RGB) or 3 channels. pytorch-fid takes [0, 1] images, resizes them to
299x299 with `F.interpolate(mode='bilinear', align_corners=False)` and then maps them
to 2x - 1; resizing the [-1, 1] image gives the same result, because bilinear weights
sum to one. `resize_bilinear` reproduces that interpolation exactly, downsampling
included, where `jax.image.resize` would differ: it antialiases when it downsamples
(for upsampling the two agree, which the tests check).
"""

import functools
import hashlib
import os
import pathlib
import shutil
import tempfile
import urllib.request

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax import traverse_util

from gan_jax.io import cache
from gan_jax.metrics.features import torch_pickle
from gan_jax.metrics.features.extractor import FeatureExtractor

FID_WEIGHTS_URL = ('https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/'
                   'pt_inception-2015-12-05-6726825d.pth')
FID_WEIGHTS_FILENAME = 'pt_inception-2015-12-05-6726825d.pth'
# The file's full SHA-256. Its first 8 hex digits are the `6726825d` of the file name,
# torch.hub's naming convention (`hub.download_url_to_file` compares that prefix).
FID_WEIGHTS_SHA256 = '6726825d0af5f729cebd5821db510b11b1cfad8faad88a03f1befd49fb9129b2'
# Where the file is looked for, and downloaded to: $GAN_JAX_CACHE, else ~/.cache/gan_jax.
CACHE_ENV = cache.CACHE_ENV
# An explicit path to the weights file, used when no path is passed.
WEIGHTS_ENV = 'GAN_JAX_INCEPTION_WEIGHTS'

INPUT_SIZE = 299
NUM_FEATURES = 2048
NUM_CLASSES = 1008


class WeightsNotFoundError(FileNotFoundError):
  """The Inception weights file is neither at the given path nor in the cache."""


# ---------------------------------------------------------------------------------------
# Resizing.


def bilinear_matrix(in_size: int, out_size: int) -> np.ndarray:
  """(out_size, in_size) float64 weights of PyTorch's bilinear, align_corners=False.

  Output pixel i samples the input at (i + 0.5) * in/out - 0.5, clamped below at 0 (as
  ATen's `area_pixel_compute_source_index`), between pixels floor(.) and the next one,
  which is clamped to the last pixel. No antialiasing, whatever the scale.
  """
  scale = in_size / out_size
  src = np.maximum((np.arange(out_size) + 0.5) * scale - 0.5, 0.0)
  lo = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
  hi = np.minimum(lo + 1, in_size - 1)
  frac = src - lo
  weights = np.zeros((out_size, in_size), np.float64)
  np.add.at(weights, (np.arange(out_size), lo), 1.0 - frac)
  np.add.at(weights, (np.arange(out_size), hi), frac)
  return weights


def resize_bilinear(images: jax.Array, height: int, width: int) -> jax.Array:
  """NHWC `images` resized to (height, width) as PyTorch's bilinear, align_corners=False.

  Two small matrix products, one per axis: exact for any scale, and cheap on
  accelerators. HIGHEST precision keeps TPUs and TF32-capable GPUs from rounding
  the images to bfloat16/TF32 on the way in.
  """
  rows = jnp.asarray(bilinear_matrix(images.shape[1], height), images.dtype)
  cols = jnp.asarray(bilinear_matrix(images.shape[2], width), images.dtype)
  highest = jax.lax.Precision.HIGHEST
  images = jnp.einsum('oh,nhwc->nowc', rows, images, precision=highest)
  return jnp.einsum('pw,nowc->nopc', cols, images, precision=highest)


# ---------------------------------------------------------------------------------------
# The network.


class BasicConv2d(nn.Module):
  """Bias-free convolution, BatchNorm with running statistics (eps 0.001), ReLU."""

  features: int
  kernel_size: tuple[int, int]
  strides: tuple[int, int] = (1, 1)
  padding: tuple[int, int] = (0, 0)
  precision: jax.lax.Precision = jax.lax.Precision.HIGHEST

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    pad_h, pad_w = self.padding
    x = nn.Conv(self.features, self.kernel_size, self.strides,
                padding=((pad_h, pad_h), (pad_w, pad_w)), use_bias=False,
                precision=self.precision, name='conv')(x)
    x = nn.BatchNorm(use_running_average=True, epsilon=1e-3, name='bn')(x)
    return nn.relu(x)


def _avg_pool_3x3(x: jax.Array) -> jax.Array:
  # TensorFlow's average pool, which the FID graph uses: padding is not counted.
  return nn.avg_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)), count_include_pad=False)


def _max_pool_3x3_stride2(x: jax.Array) -> jax.Array:
  return nn.max_pool(x, (3, 3), (2, 2), 'VALID')


class FIDInceptionA(nn.Module):
  """Mixed_5b/c/d: 1x1, 5x5, double 3x3 and pooled branches (35x35)."""

  pool_features: int
  precision: jax.lax.Precision = jax.lax.Precision.HIGHEST

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    conv = functools.partial(BasicConv2d, precision=self.precision)
    branch1x1 = conv(64, (1, 1), name='branch1x1')(x)
    branch5x5 = conv(48, (1, 1), name='branch5x5_1')(x)
    branch5x5 = conv(64, (5, 5), padding=(2, 2), name='branch5x5_2')(branch5x5)
    branch3x3dbl = conv(64, (1, 1), name='branch3x3dbl_1')(x)
    branch3x3dbl = conv(96, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(branch3x3dbl)
    branch3x3dbl = conv(96, (3, 3), padding=(1, 1), name='branch3x3dbl_3')(branch3x3dbl)
    branch_pool = conv(self.pool_features, (1, 1), name='branch_pool')(_avg_pool_3x3(x))
    return jnp.concatenate([branch1x1, branch5x5, branch3x3dbl, branch_pool], axis=-1)


class InceptionB(nn.Module):
  """Mixed_6a: the 35x35 -> 17x17 reduction."""

  precision: jax.lax.Precision = jax.lax.Precision.HIGHEST

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    conv = functools.partial(BasicConv2d, precision=self.precision)
    branch3x3 = conv(384, (3, 3), strides=(2, 2), name='branch3x3')(x)
    branch3x3dbl = conv(64, (1, 1), name='branch3x3dbl_1')(x)
    branch3x3dbl = conv(96, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(branch3x3dbl)
    branch3x3dbl = conv(96, (3, 3), strides=(2, 2), name='branch3x3dbl_3')(branch3x3dbl)
    return jnp.concatenate([branch3x3, branch3x3dbl, _max_pool_3x3_stride2(x)], axis=-1)


class FIDInceptionC(nn.Module):
  """Mixed_6b/c/d/e: factorised 7x7 branches (17x17)."""

  channels_7x7: int
  precision: jax.lax.Precision = jax.lax.Precision.HIGHEST

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    conv = functools.partial(BasicConv2d, precision=self.precision)
    c7 = self.channels_7x7
    branch1x1 = conv(192, (1, 1), name='branch1x1')(x)
    branch7x7 = conv(c7, (1, 1), name='branch7x7_1')(x)
    branch7x7 = conv(c7, (1, 7), padding=(0, 3), name='branch7x7_2')(branch7x7)
    branch7x7 = conv(192, (7, 1), padding=(3, 0), name='branch7x7_3')(branch7x7)
    dbl = conv(c7, (1, 1), name='branch7x7dbl_1')(x)
    dbl = conv(c7, (7, 1), padding=(3, 0), name='branch7x7dbl_2')(dbl)
    dbl = conv(c7, (1, 7), padding=(0, 3), name='branch7x7dbl_3')(dbl)
    dbl = conv(c7, (7, 1), padding=(3, 0), name='branch7x7dbl_4')(dbl)
    dbl = conv(192, (1, 7), padding=(0, 3), name='branch7x7dbl_5')(dbl)
    branch_pool = conv(192, (1, 1), name='branch_pool')(_avg_pool_3x3(x))
    return jnp.concatenate([branch1x1, branch7x7, dbl, branch_pool], axis=-1)


class InceptionD(nn.Module):
  """Mixed_7a: the 17x17 -> 8x8 reduction."""

  precision: jax.lax.Precision = jax.lax.Precision.HIGHEST

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    conv = functools.partial(BasicConv2d, precision=self.precision)
    branch3x3 = conv(192, (1, 1), name='branch3x3_1')(x)
    branch3x3 = conv(320, (3, 3), strides=(2, 2), name='branch3x3_2')(branch3x3)
    branch7x7x3 = conv(192, (1, 1), name='branch7x7x3_1')(x)
    branch7x7x3 = conv(192, (1, 7), padding=(0, 3), name='branch7x7x3_2')(branch7x7x3)
    branch7x7x3 = conv(192, (7, 1), padding=(3, 0), name='branch7x7x3_3')(branch7x7x3)
    branch7x7x3 = conv(192, (3, 3), strides=(2, 2), name='branch7x7x3_4')(branch7x7x3)
    return jnp.concatenate([branch3x3, branch7x7x3, _max_pool_3x3_stride2(x)], axis=-1)


class FIDInceptionE(nn.Module):
  """Mixed_7b (`pool='avg'`, FIDInceptionE_1) and Mixed_7c (`pool='max'`, FIDInceptionE_2).

  The max pool of Mixed_7c is in the TensorFlow graph that FID is defined by (likely a
  bug there, but it is the reference), padded with -inf as PyTorch's max_pool2d.
  """

  pool: str
  precision: jax.lax.Precision = jax.lax.Precision.HIGHEST

  @nn.compact
  def __call__(self, x: jax.Array) -> jax.Array:
    conv = functools.partial(BasicConv2d, precision=self.precision)
    branch1x1 = conv(320, (1, 1), name='branch1x1')(x)
    branch3x3 = conv(384, (1, 1), name='branch3x3_1')(x)
    branch3x3 = jnp.concatenate([
        conv(384, (1, 3), padding=(0, 1), name='branch3x3_2a')(branch3x3),
        conv(384, (3, 1), padding=(1, 0), name='branch3x3_2b')(branch3x3)], axis=-1)
    dbl = conv(448, (1, 1), name='branch3x3dbl_1')(x)
    dbl = conv(384, (3, 3), padding=(1, 1), name='branch3x3dbl_2')(dbl)
    dbl = jnp.concatenate([
        conv(384, (1, 3), padding=(0, 1), name='branch3x3dbl_3a')(dbl),
        conv(384, (3, 1), padding=(1, 0), name='branch3x3dbl_3b')(dbl)], axis=-1)
    if self.pool == 'avg':
      pooled = _avg_pool_3x3(x)
    elif self.pool == 'max':
      pooled = nn.max_pool(x, (3, 3), (1, 1), ((1, 1), (1, 1)))
    else:
      raise ValueError(f'FIDInceptionE.pool={self.pool!r}; known: avg, max.')
    branch_pool = conv(192, (1, 1), name='branch_pool')(pooled)
    return jnp.concatenate([branch1x1, branch3x3, dbl, branch_pool], axis=-1)


class InceptionV3(nn.Module):
  """The FID InceptionV3: images -> (logits (N, 1008), pool3 features (N, 2048)).

  Attributes:
    resize_input: resize inputs to 299x299 first (as pytorch-fid and the TTUR code do).
      Without it the network runs at the input's own size (at least 75x75).
    precision: of every convolution. HIGHEST by default, so that GPUs do not use TF32
      and FID stays comparable across hardware; DEFAULT trades that for speed.
  """

  resize_input: bool = True
  precision: jax.lax.Precision = jax.lax.Precision.HIGHEST

  @nn.compact
  def __call__(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """`x`: (N, H, W, 1 or 3) floats in [-1, 1]. Returns (logits, features)."""
    if x.ndim != 4 or x.shape[-1] not in (1, 3):
      raise ValueError(f'InceptionV3 takes NHWC images with 1 or 3 channels; got shape '
                       f'{x.shape}.')
    # float32 at least (float64 stays float64, for numerical checks).
    x = x.astype(jnp.promote_types(x.dtype, jnp.float32))
    if x.shape[-1] == 1:
      x = jnp.tile(x, (1, 1, 1, 3))
    if self.resize_input and x.shape[1:3] != (INPUT_SIZE, INPUT_SIZE):
      x = resize_bilinear(x, INPUT_SIZE, INPUT_SIZE)
    conv = functools.partial(BasicConv2d, precision=self.precision)
    p = dict(precision=self.precision)
    x = conv(32, (3, 3), strides=(2, 2), name='Conv2d_1a_3x3')(x)
    x = conv(32, (3, 3), name='Conv2d_2a_3x3')(x)
    x = conv(64, (3, 3), padding=(1, 1), name='Conv2d_2b_3x3')(x)
    x = _max_pool_3x3_stride2(x)
    x = conv(80, (1, 1), name='Conv2d_3b_1x1')(x)
    x = conv(192, (3, 3), name='Conv2d_4a_3x3')(x)
    x = _max_pool_3x3_stride2(x)
    x = FIDInceptionA(32, **p, name='Mixed_5b')(x)
    x = FIDInceptionA(64, **p, name='Mixed_5c')(x)
    x = FIDInceptionA(64, **p, name='Mixed_5d')(x)
    x = InceptionB(**p, name='Mixed_6a')(x)
    x = FIDInceptionC(128, **p, name='Mixed_6b')(x)
    x = FIDInceptionC(160, **p, name='Mixed_6c')(x)
    x = FIDInceptionC(160, **p, name='Mixed_6d')(x)
    x = FIDInceptionC(192, **p, name='Mixed_6e')(x)
    x = InceptionD(**p, name='Mixed_7a')(x)
    x = FIDInceptionE('avg', **p, name='Mixed_7b')(x)
    x = FIDInceptionE('max', **p, name='Mixed_7c')(x)
    features = jnp.mean(x, axis=(1, 2))  # pool3: the 2048-d features of FID.
    logits = nn.Dense(NUM_CLASSES, precision=self.precision, name='fc')(features)
    return logits, features


@functools.lru_cache(maxsize=1)
def init_shapes() -> dict:
  """The network's variables as ShapeDtypeStructs, from an abstract init (no compute)."""
  # 75x75 is the smallest input the network accepts; shapes do not depend on it.
  x = jax.ShapeDtypeStruct((1, 75, 75, 3), jnp.float32)
  return jax.eval_shape(InceptionV3().init, jax.random.key(0), x)


# ---------------------------------------------------------------------------------------
# PyTorch weights.


def variables_from_torch(state_dict: dict) -> dict:
  """pytorch-fid's InceptionV3 state dict as flax variables {'params', 'batch_stats'}.

  Raises ValueError naming every missing or unexpected key and every shape that does
  not match, so a file of another network (torchvision's 1000-class Inception, a
  checkpoint with a `module.` prefix) is reported rather than half-loaded.
  """
  flat_params, flat_stats, unexpected = {}, {}, []
  for key, value in state_dict.items():
    *path, leaf = key.split('.')
    path = tuple(path)
    value = np.asarray(value)
    if leaf == 'num_batches_tracked':
      continue  # BatchNorm's training counter; eval mode never reads it.
    if path and path[-1] == 'bn' and leaf in ('weight', 'bias'):
      flat_params[path + ({'weight': 'scale', 'bias': 'bias'}[leaf],)] = value
    elif path and path[-1] == 'bn' and leaf in ('running_mean', 'running_var'):
      flat_stats[path + ({'running_mean': 'mean', 'running_var': 'var'}[leaf],)] = value
    elif leaf == 'weight' and value.ndim == 4:  # OIHW -> HWIO
      flat_params[path + ('kernel',)] = value.transpose(2, 3, 1, 0)
    elif leaf == 'weight' and value.ndim == 2:  # (out, in) -> (in, out)
      flat_params[path + ('kernel',)] = value.T
    elif leaf == 'bias':
      flat_params[path + ('bias',)] = value
    else:
      unexpected.append(key)

  expected = init_shapes()
  problems = [f'unexpected key {key}' for key in unexpected]
  for collection, flat in (('params', flat_params), ('batch_stats', flat_stats)):
    want = traverse_util.flatten_dict(expected[collection])
    for path in sorted(set(want) - set(flat)):
      problems.append(f'missing {collection} {"/".join(path)}')
    for path in sorted(set(flat) - set(want)):
      problems.append(f'unexpected {collection} {"/".join(path)}')
    for path in sorted(set(flat) & set(want)):
      if flat[path].shape != want[path].shape:
        problems.append(f'{collection} {"/".join(path)} has shape {flat[path].shape}, '
                        f'expected {want[path].shape}')
  if problems:
    shown = '\n  '.join(problems[:10])
    more = f'\n  ... and {len(problems) - 10} more' if len(problems) > 10 else ''
    raise ValueError(f'the state dict is not the FID InceptionV3 of pytorch-fid:\n  '
                     f'{shown}{more}')
  return {
      'params': traverse_util.unflatten_dict(
          {k: v.astype(np.float32) for k, v in flat_params.items()}),
      'batch_stats': traverse_util.unflatten_dict(
          {k: v.astype(np.float32) for k, v in flat_stats.items()}),
  }


def cache_dir() -> pathlib.Path:
  """Where downloaded weights live: $GAN_JAX_CACHE, else ~/.cache/gan_jax."""
  return cache.cache_root()


def file_sha256(path) -> str:
  """The hex SHA-256 of the file at `path`, read in 1 MiB chunks."""
  digest = hashlib.sha256()
  with open(path, 'rb') as f:
    for chunk in iter(lambda: f.read(1 << 20), b''):
      digest.update(chunk)
  return digest.hexdigest()


def _missing_weights_message(looked_at: list, reason: str) -> str:
  places = '\n'.join(f'  {p}' for p in looked_at)
  return (f'The FID InceptionV3 weights ({FID_WEIGHTS_FILENAME}) were not found; looked at\n'
          f'{places}\n{reason}\nDownload them on a machine with internet:\n'
          f'  curl -L -o {FID_WEIGHTS_FILENAME} {FID_WEIGHTS_URL}\n'
          f'(SHA-256 {FID_WEIGHTS_SHA256}) and put the file in {cache_dir()} '
          f'(${CACHE_ENV} moves it), or pass its path (weights_path=..., or '
          f'${WEIGHTS_ENV}).')


def _download(url: str, destination: pathlib.Path) -> None:
  """Downloads `url` to `destination` through a temporary file renamed only when complete."""
  destination.parent.mkdir(parents=True, exist_ok=True)
  with tempfile.NamedTemporaryFile(dir=destination.parent, suffix='.partial',
                                   delete=False) as tmp:
    try:
      with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 (fixed URL)
        shutil.copyfileobj(response, tmp)
      tmp.close()
      sha = file_sha256(tmp.name)
      if sha != FID_WEIGHTS_SHA256:
        raise ValueError(f'the download from {url} has SHA-256 {sha}, expected '
                         f'{FID_WEIGHTS_SHA256}; not kept.')
      # An atomic rename, so that processes downloading at once never see half a file.
      os.replace(tmp.name, destination)
    finally:
      if os.path.exists(tmp.name):
        os.remove(tmp.name)


def find_weights(weights_path=None, download: bool = True) -> pathlib.Path:
  """The path of the FID Inception weights, after checking the file's SHA-256.

  Looks at `weights_path`, else $GAN_JAX_INCEPTION_WEIGHTS, else the cache directory
  (`cache_dir()`). When none is given and the cache lacks the file, downloads it there
  if `download` (once; later calls find it). Raises WeightsNotFoundError, saying where
  to put the file, when it cannot be found or fetched, and ValueError when a file is
  there but is not the expected one.
  """
  explicit = weights_path or os.environ.get(WEIGHTS_ENV)
  path = pathlib.Path(explicit).expanduser() if explicit else cache_dir() / FID_WEIGHTS_FILENAME
  if not path.is_file():
    if explicit:
      raise WeightsNotFoundError(_missing_weights_message([path], 'No file at that path.'))
    if not download:
      raise WeightsNotFoundError(_missing_weights_message([path], 'Downloading is off.'))
    try:
      _download(FID_WEIGHTS_URL, path)
    except OSError as e:  # urllib's URLError, timeouts, a read-only cache.
      raise WeightsNotFoundError(_missing_weights_message(
          [path], f'Downloading {FID_WEIGHTS_URL} failed: {e}')) from e
  sha = file_sha256(path)
  if sha != FID_WEIGHTS_SHA256:
    raise ValueError(f'{path} has SHA-256 {sha}, but the FID Inception weights have '
                     f'{FID_WEIGHTS_SHA256}: a different or damaged file. Replace it with '
                     f'{FID_WEIGHTS_URL}.')
  return path


def load_inception_v3(weights_path=None, download: bool = True,
                      precision: jax.lax.Precision = jax.lax.Precision.HIGHEST
                      ) -> tuple[InceptionV3, dict, str]:
  """The FID InceptionV3, its pretrained variables and the weights file's SHA-256.

  `weights_path` and `download` are as in `find_weights`. Apply it with
  `model.apply(variables, images)` -> (logits, features).
  """
  path = find_weights(weights_path, download)
  variables = variables_from_torch(torch_pickle.load_torch_state_dict(path))
  return InceptionV3(precision=precision), variables, FID_WEIGHTS_SHA256


def make_extractor(variables: dict, sha256: str = FID_WEIGHTS_SHA256,
                   batch_size: int | None = None,
                   precision: jax.lax.Precision = jax.lax.Precision.HIGHEST) -> FeatureExtractor:
  """The 'inception_v3' FeatureExtractor of `variables`, keyed by the weights' `sha256`.

  Its outputs: 'features' (pool3, 2048-d), 'logits' (1008) and 'logits_unbiased', pool3
  times the fc kernel without its bias: the logits of Salimans et al.'s Inception Score
  code, which torch-fidelity's Inception Score also uses.
  """
  model = InceptionV3(precision=precision)

  def apply_fn(variables, images):
    logits, features = model.apply(variables, images)
    unbiased = logits - variables['params']['fc']['bias']
    return {'features': features, 'logits': logits, 'logits_unbiased': unbiased}

  return FeatureExtractor(
      'inception_v3', apply_fn, variables, (INPUT_SIZE, INPUT_SIZE, 3),
      cache_key=f'inception_v3-{sha256[:16]}', batch_size=batch_size or 64, any_size=True,
      info={'weights': FID_WEIGHTS_FILENAME, 'sha256': sha256})
