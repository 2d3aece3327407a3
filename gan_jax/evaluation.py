"""Glue between a run and the metrics: real examples from the config, samples from a state.

`make_evaluator(config)` builds the `metrics.evaluator.Evaluator` that a config's
`eval` section describes; `generate_samples` draws evaluation samples from a state in
jitted, sharded batches with fixed noise, so every checkpoint is scored on the same z.
"""

import os

import jax
import jax.numpy as jnp
import numpy as np

from gan_jax import data
from gan_jax.data import unpaired
from gan_jax import parallel
from gan_jax.metrics import evaluator as evaluator_lib

# Fields of `config.data` that decide what the reference examples are.
_DATA_FIELDS = ('name', 'split', 'tfds_name', 'data_dir', 'path', 'labels_path',
                'image_size', 'grayscale', 'num_modes', 'radius', 'std', 'num_examples',
                'fresh_samples', 'crop_size', 'pairs', 'pairs_reverse', 'patch_size', 'domain_b',
                'split_b', 'path_b')


def _file_fingerprint(path: str):
  """Size and modification time of a data file or folder, so edits invalidate the cache."""
  if not path or not os.path.exists(path):
    return None
  stat = os.stat(path)
  return [os.path.abspath(path), stat.st_size, stat.st_mtime_ns]


def reference_data_config(config):
  """`config.data` with the split of the reference set (`eval.reference_split`, if set)."""
  data_config = config.data
  if config.eval.reference_split and config.eval.reference_split != data_config.split:
    data_config = data_config.copy_and_resolve_references()
    data_config.split = config.eval.reference_split
  return data_config


def reference_key(config) -> dict:
  """What identifies a run's reference set: dataset, split, preprocessing, subset, seed."""
  data_config = reference_data_config(config)
  key = {field: data_config[field] for field in _DATA_FIELDS}
  key['path'] = _file_fingerprint(config.data.path)
  key['labels_path'] = _file_fingerprint(config.data.labels_path)
  key['num_real'] = int(config.eval.num_real)
  key['seed'] = int(config.seed)
  if config.data.domain_b:  # Unpaired runs: which domain is the reference.
    key['path_b'] = _file_fingerprint(config.data.path_b)
    key['reference_split_b'] = config.eval.reference_split_b
    key['eval_direction'] = config.game.cyclegan.eval_direction
  return key


def make_evaluator(config, source=None):
  """The Evaluator for `config.eval`, or None when no metric is listed.

  `source` is the run's data source when the caller already has it (training);
  otherwise it is built from `config.data` only if the reference is not cached. With
  `eval.reference_split` set to another split (e.g. 'test'), the reference is read from
  that split instead, never from the training examples.
  """
  if not config.eval.metrics:
    return None
  evaluator_lib.check_eval_config(config.eval)
  data_config = reference_data_config(config)
  if data_config is not config.data:
    source = None

  def real_examples():
    nonlocal source
    if source is None:
      source = data.make_source(data_config, config.seed)
    if config.data.domain_b:
      return unpaired_reference(config, data_config, source)
    return data.read_examples(source, data_config, config.eval.num_real, config.seed)

  extractor = None
  if any(m in evaluator_lib.NEEDS_EXTRACTOR for m in config.eval.metrics):
    # Imported on use: the extractors pull in Inception's definition.
    from gan_jax.metrics import features  # pylint: disable=g-import-not-at-top
    extractor = features.get_extractor(config.eval.extractor,
                                       config.eval.extractor_weights or None)
  mixture = None
  if config.data.name in ('ring', 'grid'):
    mixture = (data.mixture_means(config.data), float(config.data.std))
  return evaluator_lib.Evaluator(config.eval, real_examples, reference_key(config),
                                 extractor=extractor, mixture=mixture)


def unpaired_reference(config, data_config, source) -> dict:
  """An unpaired run's reference set for `game.cyclegan.eval_direction` ('ab' or 'ba'):
  {'src': the source domain's images, 'src_y': their labels, 'x': the target domain's
  images, 'y': their labels}, each from its reference split."""
  if config.data.domain_b == 'split' and config.eval.reference_split_b:
    data_config = data_config.copy_and_resolve_references()
    data_config.split_b = config.eval.reference_split_b
  a, b = unpaired.read_domains(source, data_config, config.eval.num_real, config.seed)
  src, target = (a, b) if config.game.cyclegan.eval_direction == 'ab' else (b, a)
  return {'src': src['x'], 'src_y': src['y'], 'x': target['x'], 'y': target['y']}


def generate_samples(sample_fn, state, num: int, config, mesh=None, num_classes: int = 0,
                     noise_dim: int | None = None) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
  """`num` samples of `sample_fn(state, z)` from the evaluation noise of `config`.

  The noise is the same for every call with the same config (seeded from `config.seed`
  and the batch index), so scores of different checkpoints are comparable. Batches are
  split over `mesh` when they divide evenly. With `num_classes` > 0 (a conditional
  game) the samples are asked for the classes 0..K-1 in turn and (samples, labels)
  comes back. `noise_dim` is the size of z (the game's `noise_dim`; default
  `model.latent_dim`).
  """
  noise_dim = int(config.model.latent_dim if noise_dim is None else noise_dim)
  mesh = parallel.make_mesh() if mesh is None else mesh
  batch = min(int(config.eval.batch_size), num)
  sharding = (parallel.batch_sharded(mesh) if batch % mesh.devices.size == 0
              else parallel.replicated(mesh))
  key = jax.random.fold_in(jax.random.PRNGKey(config.seed), 2)
  chunks = []
  for index, start in enumerate(range(0, num, batch)):
    z = jax.random.normal(jax.random.fold_in(key, index), (batch, noise_dim))
    if num_classes:
      labels = (np.arange(start, start + batch) % num_classes).astype(np.int32)
      chunks.append(sample_fn(state, jax.device_put(z, sharding),
                              jax.device_put(labels, sharding)))
    else:
      chunks.append(sample_fn(state, jax.device_put(z, sharding)))
  samples = np.concatenate([np.asarray(c) for c in chunks])[:num]
  if num_classes:
    return samples, (np.arange(num) % num_classes).astype(np.int32)
  return samples


def make_readout(game, batch_size: int = 500):
  """`readout(state, images) -> {name: NumPy array}`: the game's readout (InfoGAN's codes,
  a classifier's logits) of NumPy images in data space, jitted, in batches.
  """
  readout_fn = jax.jit(game.readout)

  def readout(state, images: np.ndarray) -> dict:
    chunks = [jax.device_get(readout_fn(state, jnp.asarray(images[i:i + batch_size])))
              for i in range(0, len(images), batch_size)]
    return {name: np.concatenate([np.asarray(c[name]) for c in chunks]) for name in chunks[0]}

  return readout


def make_translate(game, direction: str = 'ab', batch_size: int = 500):
  """`translate(state, images) -> NumPy images`: the game's eval-mode translation in
  `direction`, jitted, in batches. The last batch is padded with zeros to the size of the
  others, so one compiled program serves all; eval mode translates each image on its
  own (running statistics, no dropout), so the padding cannot change the others."""
  translate_fn = jax.jit(lambda state, images: game.translate(state, images, direction))

  def translate(state, images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if not len(images):
      raise ValueError('translate: got no images.')
    batch = min(batch_size, len(images))
    outputs = []
    for start in range(0, len(images), batch):
      chunk = images[start:start + batch]
      real = len(chunk)
      if real < batch:
        chunk = np.concatenate([chunk, np.zeros((batch - real, *chunk.shape[1:]), chunk.dtype)])
      outputs.append(np.asarray(translate_fn(state, jnp.asarray(chunk)))[:real])
    return np.concatenate(outputs)

  return translate


def make_translate_back(game, config):
  """`translate_back(state, images)`: the way back from the scored direction's targets
  to its sources (G_ba after G_ab), for the 'way_back' metrics; None for games that
  translate one way or not at all."""
  if len(game.translations) < 2:
    return None
  return make_translate(game, game.eval_direction[::-1], int(config.eval.batch_size))


def make_generate(game, sample_fn, config, evaluator, mesh=None):
  """`generate(state, num)`: what the evaluator scores for `game`.

  Games that sample get `num` samples of the evaluation noise (`generate_samples`);
  translation games get their translations of the first `num` source images of the
  reference set (at most all of them), in its order, so fake i pairs with real i.
  """
  if game.translations:
    translate = make_translate(game, game.eval_direction, int(config.eval.batch_size))

    def generate_translations(state, num: int) -> np.ndarray:
      return translate(state, np.asarray(evaluator.real_examples()['src'][:num]))

    return generate_translations
  return lambda state, num: generate_samples(sample_fn, state, num, config, mesh,
                                             game.sample_classes, game.noise_dim)


def preview_pairs(config, source, evaluator=None) -> dict:
  """The (src, target) pairs a translation run previews: the first `num_grid_samples`
  of the reference set (the held-out split when `eval.reference_split` names one)."""
  if evaluator is not None:
    examples = evaluator.real_examples()
  else:
    data_config = reference_data_config(config)
    if data_config is not config.data:
      source = data.make_source(data_config, config.seed)
    if config.data.domain_b:
      examples = unpaired_reference(config, data_config, source)
    else:
      examples = data.read_examples(source, data_config, config.num_grid_samples, config.seed)
  return {'src': np.asarray(examples['src'][:config.num_grid_samples]),
          'x': np.asarray(examples['x'][:config.num_grid_samples])}
