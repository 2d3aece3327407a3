"""Semi-supervised data: a few labelled examples beside the unlabelled pool (`data.num_labeled`).

`labeled_indices` picks `num_labeled` examples of the training split, the same number of
each class, from the seed; `SemiSupervisedPipeline` serves, in every batch, the whole
split as unlabelled examples (`'x'`, its labels dropped so that none can leak into
training) and a labelled stream of the same size drawn from the chosen examples
(`'x_lab'`, `'y_lab'`), as in Salimans et al. (2016), whose labelled minibatches cycle
through the 100 labelled MNIST digits beside the unlabelled ones. Both streams are
`Pipeline`s, so both are resumable and laid out like any batch: the step splits every
array along axis 0 into `n_critic` updates, and the labelled stream splits with them.

Only the split named by `data.split` (the training split) is ever read here; the test
split, which evaluation uses as its reference, never enters training.
"""

import numpy as np

from gan_jax.data import pipeline as pipeline_lib
from gan_jax.data.sources import ArraySource

# Mixed into the seed of the labelled stream's order, so it never equals the unlabelled one.
_LABELED_STREAM = 7919


def source_labels(source) -> np.ndarray:
  """Every label of `source` (int32, -1 where unlabelled), without decoding its images if it can."""
  labels = getattr(source, 'y', None)
  if labels is None:
    labels = source.gather(np.arange(len(source)))['y']
  return np.asarray(labels, np.int32)


def labeled_indices(labels: np.ndarray, num_labeled: int, num_classes: int,
                    seed: int) -> np.ndarray:
  """`num_labeled` indices, `num_labeled // num_classes` of each class, chosen by `seed`.

  Sorted, so that the subset does not depend on the order in which classes were drawn.
  Raises a ValueError naming `config.data.num_labeled` when the number is not a positive
  multiple of the number of classes or a class has too few examples.
  """
  labels = np.asarray(labels)
  if num_classes < 2:
    raise ValueError(f'config.data.num_labeled={num_labeled} needs labelled data with at '
                     f'least 2 classes; this source has {num_classes}.')
  if num_labeled <= 0 or num_labeled % num_classes:
    raise ValueError(f'config.data.num_labeled={num_labeled} must be a positive multiple of '
                     f'the number of classes ({num_classes}): the labels are balanced.')
  per_class = num_labeled // num_classes
  rng = np.random.default_rng([seed % 2**64, _LABELED_STREAM])
  chosen = []
  for c in range(num_classes):
    members = np.flatnonzero(labels == c)
    if len(members) < per_class:
      raise ValueError(f'config.data.num_labeled={num_labeled} asks for {per_class} examples '
                       f'of class {c}, which has only {len(members)}.')
    chosen.append(rng.choice(members, per_class, replace=False))
  return np.sort(np.concatenate(chosen))


def labeled_source(source, indices: np.ndarray) -> ArraySource:
  """The examples of `source` at `indices`, raw, as an in-memory source with their labels."""
  examples = source.gather(np.asarray(indices))
  return ArraySource(examples['x'], examples['y'], num_classes=source.num_classes)


class SemiSupervisedPipeline:
  """Batches {'x': unlabelled, 'x_lab': labelled, 'y_lab': their labels}, all of one size.

  The state is both streams' positions, so a checkpoint resumes both.
  """

  def __init__(self, unlabeled: pipeline_lib.Pipeline, labeled: pipeline_lib.Pipeline,
               indices: np.ndarray):
    self.unlabeled, self.labeled = unlabeled, labeled
    self.element_shape = unlabeled.element_shape
    self.indices = indices  # The labelled examples' indices in the training split.

  def __iter__(self):
    return self

  def __next__(self) -> dict:
    unlabeled, labeled = next(self.unlabeled), next(self.labeled)
    return {'x': unlabeled['x'], 'x_lab': labeled['x'], 'y_lab': labeled['y']}

  def get_state(self) -> dict:
    """Both streams' positions, JSON-serialisable."""
    return {'unlabeled': self.unlabeled.get_state(), 'labeled': self.labeled.get_state()}

  def set_state(self, state: dict) -> None:
    """Moves both streams to the positions saved by `get_state`."""
    self.unlabeled.set_state(state['unlabeled'])
    self.labeled.set_state(state['labeled'])

  def close(self) -> None:
    """Stops both streams' worker processes, if any."""
    self.unlabeled.close()
    self.labeled.close()


def make_semi_supervised_pipeline(source, data_config, batch_size: int, seed: int,
                                  shard_index: int = 0, shard_count: int = 1
                                  ) -> SemiSupervisedPipeline:
  """The unlabelled stream of all of `source` beside the labelled stream of its chosen subset.

  Arguments as `make_pipeline`'s; the labelled subset is `labeled_indices(...,
  data_config.num_labeled, ..., seed)`, the same in every process.
  """
  indices = labeled_indices(source_labels(source), int(data_config.num_labeled),
                            int(source.num_classes), seed)
  unlabeled = pipeline_lib.make_pipeline(source, data_config, batch_size, seed, shard_index,
                                         shard_count)
  labeled = pipeline_lib.make_pipeline(labeled_source(source, indices), data_config,
                                       batch_size, seed + _LABELED_STREAM, shard_index,
                                       shard_count)
  return SemiSupervisedPipeline(unlabeled, labeled, indices)
