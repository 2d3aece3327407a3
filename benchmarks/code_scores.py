"""How an InfoGAN run's categorical code reads labelled real images: the reference set and
the matched accuracy with its confusions, shared by infogan_codes.py and
infogan_reading.py."""

import numpy as np

from gan_jax import data
from gan_jax import evaluation
from gan_jax.metrics import codes


def labelled_reference(config) -> dict:
  """All labelled examples of the run's reference split, {'x', 'y'} in data space."""
  data_config = evaluation.reference_data_config(config)
  source = data.make_source(data_config, config.seed)
  return data.read_examples(source, data_config, len(source), config.seed)


def score_codes(run, reference: dict) -> dict:
  """Matched accuracy of the first categorical code on `reference`, and its confusions."""
  return score_logits(run.encode(reference['x'])['code_logits'], reference['y'])


def score_logits(logits: np.ndarray, labels) -> dict:
  """Matched accuracy of code logits (N, K) against classes `labels` (N,): the accuracy,
  the value-to-class mapping, the values holding two classes, per-class accuracy and the
  confusion matrix."""
  labels = np.asarray(labels, np.int64)
  num_values, num_classes = logits.shape[1], int(labels.max()) + 1
  result = codes.matched_accuracy(logits.argmax(axis=1), labels, num_values, num_classes)
  confusion = result.confusion
  # A code value "holds" a class when it gets at least 20% of that class's examples.
  share_of_class = confusion / np.maximum(confusion.sum(axis=0, keepdims=True), 1)
  merges = [[int(c) for c in np.flatnonzero(share_of_class[v] >= 0.2)]
            for v in range(num_values)]
  per_class = [float(confusion[result.mapping.index(c), c] / max(confusion[:, c].sum(), 1))
               if c in result.mapping else 0.0 for c in range(num_classes)]
  return {'code_accuracy': result.accuracy, 'mapping': list(result.mapping),
          'merged_values': {str(v): m for v, m in enumerate(merges) if len(m) > 1},
          'per_class_accuracy': per_class, 'confusion': confusion.tolist()}
