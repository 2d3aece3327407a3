"""The sample grids a run writes: the same noise (and classes) at every step and after resume.

Images become a PNG grid (one row per class for conditional games), 2-D points a
scatter plot over real points and the mixture's means; both also go to TensorBoard.
Translation games show fixed held-out pairs as src | translated | target triplets.
"""

import os

import jax
import numpy as np

from gan_jax import data
from gan_jax import parallel
from gan_jax.games import base
from gan_jax.io import writers


def fixed_noise(config, num: int, noise_dim: int) -> jax.Array:
  """The noise behind every sample grid of a run: the same at every step and after resume."""
  key = jax.random.fold_in(jax.random.PRNGKey(config.seed), 1)
  return jax.random.normal(key, (num, noise_dim))


def reference_points(source, max_points: int = 2000) -> np.ndarray:
  """Real 2-D points drawn under the samples in scatter plots."""
  count = min(len(source), max_points)
  return np.stack([np.asarray(source[i]['x']) for i in range(count)])


class Preview:
  """Writes `samples/step_<step>.png` from a state, with fixed noise and labels, and
  the game's extra pictures (InfoGAN's traversals) under `samples/<name>/`.

  Args:
    config: the run's config (`num_grid_samples`, `seed`, `data`).
    game: the run's game (its `preview_labels` give one row per class).
    sample_fn: `sample(state, z, labels=None)`, jitted (see `step.make_sample_fn`).
    source: the data source (real points under 2-D scatter plots).
    mesh: the device mesh the noise is replicated over.
    workdir: where `samples/` goes; `enabled` is False on processes that do not write.
  """

  def __init__(self, config, game, sample_fn, source, mesh, workdir: str, enabled: bool,
               pairs: dict | None = None):
    self.sample_fn = sample_fn
    self.directory = os.path.join(workdir, 'samples')
    self.enabled = enabled
    if enabled:  # A run killed mid-picture left its temporary file; this run owns the folder.
      writers.remove_stale_temporaries(self.directory)
    # Translation games preview fixed (src, target) pairs instead of noise.
    self.pairs = pairs
    if pairs is not None:
      self.columns_fn = jax.jit(game.preview_columns)
      return
    self.labels = game.preview_labels(config.num_grid_samples)
    num = config.num_grid_samples if self.labels is None else len(self.labels)
    noise = fixed_noise(config, num, game.noise_dim)
    self.noise = jax.device_put(noise, parallel.replicated(mesh))
    # One row per class (or code value): the grid has num / K columns.
    self.ncols = None if self.labels is None else num // game.sample_classes
    # Pictures the game adds (InfoGAN's code traversals), all from the first noise vector.
    self.extra_noise = self.noise[:1]
    self.extra_fn = (jax.jit(game.extra_previews)
                     if type(game).extra_previews is not base.Game.extra_previews else None)
    self.is_points = not source.is_image
    self.real_points = reference_points(source) if self.is_points and enabled else None
    self.means = (data.mixture_means(config.data)
                  if config.data.name in ('ring', 'grid') else None)

  def write(self, state, step: int) -> np.ndarray | None:
    """Samples the state and writes the picture; returns it (None where not writing)."""
    if self.pairs is not None:
      return self.write_translations(state, step)
    # Every process runs the sampler: with several hosts it is one global program.
    samples = np.asarray(jax.device_get(self.sample_fn(state, self.noise, self.labels)))
    if not self.enabled:
      return None
    path = os.path.join(self.directory, f'step_{step:07d}.png')
    os.makedirs(self.directory, exist_ok=True)
    if self.is_points:
      return writers.save_scatter_plot(path, samples, real=self.real_points, means=self.means)
    grid = writers.save_image_grid(samples, path, ncols=self.ncols)
    self.write_extra(state, step)
    return grid

  def write_extra(self, state, step: int) -> None:
    """Writes the game's extra pictures as `samples/<name>/step_<step>.png`."""
    if self.extra_fn is None:
      return
    for name, pictures in jax.device_get(self.extra_fn(state, self.extra_noise)).items():
      pictures = np.asarray(pictures)
      directory = os.path.join(self.directory, name)
      os.makedirs(directory, exist_ok=True)
      writers.save_image_grid(pictures.reshape((-1, *pictures.shape[2:])),
                              os.path.join(directory, f'step_{step:07d}.png'),
                              ncols=pictures.shape[1])

  def write_translations(self, state, step: int) -> np.ndarray | None:
    """Writes the game's preview columns (src | translated | target; CycleGAN's
    x | G(x) | F(G(x)) both ways), four groups to a row."""
    groups = jax.device_get(self.columns_fn(state, self.pairs['src'], self.pairs['x']))
    if not self.enabled:
      return None
    path = os.path.join(self.directory, f'step_{step:07d}.png')
    os.makedirs(self.directory, exist_ok=True)
    images = [triplets(*map(np.asarray, group)) for group in groups]
    channels = max(i.shape[-1] for i in images)
    images = np.concatenate([np.repeat(i, channels, axis=-1) if i.shape[-1] == 1 else i
                             for i in images])
    columns = len(groups[0])
    return writers.save_image_grid(images, path,
                                   ncols=columns * min(4, len(self.pairs['src'])))


def triplets(*columns: np.ndarray) -> np.ndarray:
  """Images (N * k, H, W, C) interleaving k arrays of N images: a0 b0 c0 a1 b1 c1 ...

  Single-channel arrays are repeated to the widest channel count, so a grey source
  sits beside a colour target; smaller images (super-resolution's LR sources) are
  enlarged to the largest by repeating pixels, so they show at the same scale.
  """
  height = max(c.shape[1] for c in columns)
  columns = [np.repeat(np.repeat(c, height // c.shape[1], axis=1), height // c.shape[1], axis=2)
             if c.shape[1] < height else c for c in columns]
  channels = max(c.shape[-1] for c in columns)
  columns = [np.repeat(c, channels, axis=-1) if c.shape[-1] == 1 else c for c in columns]
  return np.stack(columns, axis=1).reshape(-1, *columns[0].shape[1:])
