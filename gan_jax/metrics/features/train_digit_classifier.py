"""Trains a digit classifier for the evaluation suite and writes its weights.

The shipped weights were made with exactly these commands (2 CPU cores, JAX 0.10.2):

  python -m gan_jax.metrics.features.train_digit_classifier --model=digits8 \\
      --output=gan_jax/metrics/features/weights/digits8.npz
  python -m gan_jax.metrics.features.train_digit_classifier --model=mnist28 \\
      --source=idx --path=../shared/data/mnist/t10k-images-idx3-ubyte.gz \\
      --labels_path=../shared/data/mnist/t10k-labels-idx1-ubyte.gz \\
      --output=gan_jax/metrics/features/weights/mnist28.npz

With MNIST's full train split prepared for TFDS, a classifier trained on all of it:

  python -m gan_jax.metrics.features.train_digit_classifier --model=mnist28 \
      --source=tfds --tfds_name=mnist --split=train --num_test=5000 --output=mnist28.npz

used through `get_extractor('mnist28', weights_path='mnist28.npz')` (or
config.eval.extractor_weights).

Data come from any labelled image source of `gan_jax.data` (digits, idx, npz, tfds,
folder; the --source, --path, ... options are the `config.data` fields of a run), scaled
as the pipeline scales them. `--num_test` examples, drawn by a seeded stratified
split, are held out and only used for the test accuracy, which is printed and stored
in the weights file with the rest of the recipe.

Training is deterministic: a fixed init key, per-epoch permutations drawn from the
seed, dropout keys folded from the step number. The same command with the same data,
JAX/XLA versions and CPU core count reproduces the weights bit for bit (the command
prints a digest of the params and whether it equals the shipped weights'). XLA's CPU
reductions split their work by core count, so elsewhere the weights differ in the last
bits: digits8 trained on 1 core instead of 2 has another digest and the same 98.67%
test accuracy. The cache key of an extractor digests its params, so statistics cached
with one set of weights are never reused with another.
"""

import argparse
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn import model_selection

from gan_jax.data import sources
from gan_jax.default_config import get_base_config
from gan_jax.metrics.features import digit_classifier
from gan_jax.metrics.features.extractor import to_model_range

# Per-model defaults of the options left unset.
DEFAULTS = {
    'digits8': {'source': 'digits', 'num_test': 300, 'epochs': 60, 'batch_size': 64},
    'mnist28': {'source': 'idx', 'num_test': 2000, 'epochs': 15, 'batch_size': 64},
}


def split(labels: np.ndarray, num_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """(train, test) indices: a stratified split holding out `num_test`, seeded by `seed`."""
  train, test = model_selection.train_test_split(
      np.arange(len(labels)), test_size=num_test, random_state=seed, stratify=labels)
  return np.sort(train), np.sort(test)


def train(model: digit_classifier.DigitClassifier, images: np.ndarray, labels: np.ndarray, *,
          epochs: int, batch_size: int, learning_rate: float = 1e-3,
          weight_decay: float = 1e-4, seed: int = 0) -> dict:
  """Trains `model` on float images in [-1, 1] and their labels; returns its params.

  AdamW with a cosine learning-rate decay, cross-entropy, dropout; the last partial
  batch of each epoch is dropped so that one compiled step serves every batch.
  """
  if len(images) < batch_size:
    raise ValueError(f'{len(images)} training examples are fewer than one batch of '
                     f'{batch_size}.')
  steps_per_epoch = len(images) // batch_size
  schedule = optax.cosine_decay_schedule(learning_rate, epochs * steps_per_epoch)
  optimizer = optax.adamw(schedule, weight_decay=weight_decay)
  key = jax.random.key(seed)
  params = model.init(key, jnp.zeros((1, *images.shape[1:]), jnp.float32))['params']
  opt_state = optimizer.init(params)
  dropout_key = jax.random.fold_in(key, 1)

  @jax.jit
  def step(params, opt_state, x, y, step_index):
    def loss_fn(params):
      logits, _ = model.apply({'params': params}, x, train=True,
                              rngs={'dropout': jax.random.fold_in(dropout_key, step_index)})
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  rng = np.random.default_rng(seed)
  step_index = 0
  for _ in range(epochs):
    order = rng.permutation(len(images))
    for b in range(steps_per_epoch):
      batch = order[b * batch_size:(b + 1) * batch_size]
      params, opt_state, _ = step(params, opt_state, images[batch], labels[batch], step_index)
      step_index += 1
  return jax.device_get(params)


def accuracy(model: digit_classifier.DigitClassifier, params: dict, images: np.ndarray,
             labels: np.ndarray) -> float:
  """Fraction of `images` (floats in [-1, 1]) that `model` classifies as `labels`."""
  logits, _ = jax.jit(model.apply)({'params': params}, images)
  return float(np.mean(np.argmax(np.asarray(logits), axis=-1) == labels))


def load_labelled_images(source_name: str, **fields) -> tuple[np.ndarray, np.ndarray]:
  """(uint8 images, int labels) of a whole `gan_jax.data` source; `fields` set config.data."""
  data_config = get_base_config().data
  data_config.name = source_name
  for name, value in fields.items():
    data_config[name] = value
  source = sources.make_source(data_config, seed=0)
  if not source.is_image or source.num_classes == 0:
    raise ValueError(f'source {source_name!r} must hold labelled images (it has '
                     f'{source.num_classes} classes).')
  batch = source.gather(np.arange(len(source)))
  return batch['x'], batch['y']


def parse_args(argv: list[str]) -> argparse.Namespace:
  """The command's options; those left unset take the model's DEFAULTS."""
  parser = argparse.ArgumentParser(
      prog='python -m gan_jax.metrics.features.train_digit_classifier',
      description='Train a digit classifier for the evaluation suite.')
  add = parser.add_argument
  add('--model', default='digits8', choices=sorted(digit_classifier.CONFIGS),
      help='classifier configuration (architecture and input shape)')
  add('--output', help='where to write the weights (.npz); nothing is written when unset')
  add('--source', help='data source (config.data.name); default: digits for digits8, '
      'idx for mnist28')
  add('--path', default='', help='config.data.path (npz, IDX images, folder)')
  add('--labels_path', default='', help='config.data.labels_path (IDX labels)')
  add('--tfds_name', default='', help='config.data.tfds_name, e.g. mnist')
  add('--split', default='train', help='config.data.split (tfds)')
  add('--data_dir', default='', help='config.data.data_dir (tfds)')
  add('--num_test', type=int, help='examples held out for the test accuracy')
  add('--epochs', type=int, help='passes over the training examples')
  add('--batch_size', type=int, help='examples per step')
  add('--learning_rate', type=float, default=1e-3,
      help='peak AdamW learning rate (cosine decay to 0 over the run)')
  add('--weight_decay', type=float, default=1e-4, help='AdamW weight decay')
  add('--seed', type=int, default=0, help='seeds the split, the init, the order and dropout')
  args = parser.parse_args(argv)
  args.command = ' '.join([parser.prog, *argv])  # Recorded with the weights.
  for key, value in DEFAULTS[args.model].items():
    if getattr(args, key) is None:
      setattr(args, key, value)
  return args


def main(args: argparse.Namespace) -> dict:
  """Trains, reports and (with --output) writes the weights; returns their meta."""
  name = args.model
  config = digit_classifier.CONFIGS[name]
  images, labels = load_labelled_images(
      args.source, path=args.path, labels_path=args.labels_path, tfds_name=args.tfds_name,
      split=args.split, data_dir=args.data_dir)
  if images.shape[1:] != config['input_shape']:
    raise ValueError(f'{name} takes images of shape {config["input_shape"]}; the source '
                     f'holds {images.shape[1:]}.')
  train_idx, test_idx = split(labels, args.num_test, args.seed)
  x = to_model_range(images)
  model = digit_classifier.make_classifier(name)
  start = time.time()
  params = train(model, x[train_idx], labels[train_idx], epochs=args.epochs,
                 batch_size=args.batch_size, learning_rate=args.learning_rate,
                 weight_decay=args.weight_decay, seed=args.seed)
  seconds = time.time() - start
  test_accuracy = accuracy(model, params, x[test_idx], labels[test_idx])
  train_accuracy = accuracy(model, params, x[train_idx], labels[train_idx])
  digest = digit_classifier.params_digest(params)
  print(f'{name}: {len(train_idx)} train / {len(test_idx)} test examples, {args.epochs} '
        f'epochs in {seconds:.1f} s; train accuracy {train_accuracy:.4f}, '
        f'test accuracy {test_accuracy:.4f}')
  print(f'params digest {digest}')
  shipped = digit_classifier.shipped_weights_path(name)
  if shipped.is_file():
    same = digit_classifier.params_digest(digit_classifier.load_weights(shipped)[0]) == digest
    print(f'{"equals" if same else "differs from"} the shipped weights ({shipped.name})')

  meta = dict(
      name=name, input_shape=list(config['input_shape']), widths=list(config['widths']),
      hidden=config['hidden'], num_classes=config['num_classes'], source=args.source,
      path=args.path, tfds_name=args.tfds_name, split=args.split,
      num_train=len(train_idx), num_test=len(test_idx), test_accuracy=test_accuracy,
      train_accuracy=train_accuracy, epochs=args.epochs, batch_size=args.batch_size,
      learning_rate=args.learning_rate, weight_decay=args.weight_decay, seed=args.seed,
      params_digest=digest, jax_version=jax.__version__, command=args.command)
  if args.output:
    digit_classifier.save_weights(args.output, params, meta)
    print(f'wrote {args.output}')
  return meta


if __name__ == '__main__':
  main(parse_args(sys.argv[1:]))
