"""The interface the evaluator uses: a named network mapping images to features and logits.

`FeatureExtractor.extract(images)` runs the network over any number of images in
large jitted batches. When a batch splits evenly over this process's devices it is
sharded along the 1-D `data` mesh, with the variables replicated; otherwise (small
inputs) it runs on one device. Only the (N, D) results come back to the host, and the
next batch is already running while the previous one's results are copied.
"""

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import parallel


def to_model_range(images):
  """uint8 images -> float32 in [-1, 1] as the data pipeline scales them; floats as is."""
  if images.dtype == np.uint8:
    return images.astype(np.float32) * np.float32(1 / 127.5) - np.float32(1.0)
  return images


@dataclasses.dataclass(eq=False)
class FeatureExtractor:
  """A network that maps images to {'features': (N, D), 'logits': (N, K), ...}.

  Attributes:
    name: the registry name ('digits8', 'mnist28', 'inception_v3').
    apply_fn: pure `(variables, images) -> dict of arrays`, images NHWC floats in
      [-1, 1]; jittable, so that it can also run inside a caller's own jitted program.
    variables: the network's variables (host arrays).
    input_shape: (H, W, C) the network takes. Images of another shape are an error,
      unless `any_size` is set (Inception resizes any size and tiles one channel).
    cache_key: name and weights digest, e.g. 'digits8-0a9587aa69a97c61': statistics
      of reference data cached under it are invalid once the weights change.
    batch_size: default images per jitted batch.
    any_size: whether images of any (H, W) and 1 or 3 channels are accepted.
    info: facts about the weights (accuracy, provenance), for logs and reports.
  """

  name: str
  apply_fn: Callable[[dict, jax.Array], dict]
  variables: dict
  input_shape: tuple[int, int, int]
  cache_key: str
  batch_size: int = 256
  any_size: bool = False
  info: dict = dataclasses.field(default_factory=dict)

  def __post_init__(self):
    self._compiled = {}
    self._device_variables = {}

  def check_images(self, images) -> None:
    """Raises ValueError unless `images` is a batch this extractor accepts."""
    shape = tuple(images.shape)
    if self.any_size:
      ok = len(shape) == 4 and shape[-1] in (1, 3) and min(shape[1:3]) > 0
      want = '(N, H, W, 1 or 3)'
    else:
      ok = shape[1:] == tuple(self.input_shape)
      want = f'(N, {", ".join(map(str, self.input_shape))})'
    if not ok:
      raise ValueError(f'feature extractor {self.name!r} takes NHWC images of shape '
                       f'{want}, floats in [-1, 1] or uint8; got shape {shape}.')

  def _runner(self, batch: int):
    """The jitted function and input sharding for batches of `batch` images."""
    if batch not in self._compiled:
      devices = jax.local_devices()
      if batch % len(devices) == 0 and len(devices) > 1:
        mesh = parallel.make_mesh(devices)
        replicated, sharded = parallel.replicated(mesh), parallel.batch_sharded(mesh)
        key = ('mesh', len(devices))
        fn = jax.jit(self.apply_fn, in_shardings=(replicated, sharded), out_shardings=sharded)
      else:
        sharded = replicated = jax.sharding.SingleDeviceSharding(devices[0])
        key = ('single',)
        fn = jax.jit(self.apply_fn)
      if key not in self._device_variables:
        # Moved once per placement, not once per batch: Inception's are 95 MB.
        self._device_variables[key] = jax.device_put(self.variables, replicated)
      self._compiled[batch] = (fn, sharded, self._device_variables[key])
    return self._compiled[batch]

  def extract(self, images, batch_size: int | None = None) -> dict[str, np.ndarray]:
    """{'features': (N, D), 'logits': (N, K), ...} float32 NumPy arrays of `images`.

    `images`: (N, H, W, C) NumPy or JAX array, floats in [-1, 1] (the generator's
    range) or uint8 0..255 (scaled as the data pipeline does). Runs in batches of
    `batch_size` (default `self.batch_size`); the last one is padded, so that one
    compiled program serves all.
    """
    self.check_images(images)
    num = int(images.shape[0])
    if num == 0:
      raise ValueError(f'feature extractor {self.name!r} got no images.')
    batch = min(batch_size or self.batch_size, num)
    fn, sharding, variables = self._runner(batch)
    xp = jnp if isinstance(images, jax.Array) else np
    results, pending = [], None
    for start in range(0, num, batch):
      chunk = to_model_range(images[start:start + batch])
      if len(chunk) < batch:
        chunk = xp.concatenate([chunk, xp.zeros((batch - len(chunk), *chunk.shape[1:]),
                                                chunk.dtype)])
      outputs = fn(variables, jax.device_put(chunk, sharding))
      if pending is not None:  # Copy the previous batch while this one runs.
        results.append(jax.tree.map(np.asarray, pending))
      pending = outputs
    results.append(jax.tree.map(np.asarray, pending))
    return {key: np.concatenate([r[key] for r in results])[:num].astype(np.float32)
            for key in results[0]}
