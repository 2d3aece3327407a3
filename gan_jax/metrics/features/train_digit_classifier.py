"""Trains a digit classifier for the evaluation suite and writes its weights.

The shipped weights were made with exactly these commands (2 CPU cores, JAX 0.10.2):

  python -m gan_jax.metrics.features.train_digit_classifier --model=digits8 \\
      --output=gan_jax/metrics/features/weights/digits8.npz
  python -m gan_jax.metrics.features.train_digit_classifier --model=mnist28 \\
      --source=idx --path=../shared/data/mnist/t10k-images-idx3-ubyte.gz \\
      --labels_path=../shared/data/mnist/t10k-labels-idx1-ubyte.gz \\
      --output=gan_jax/metrics/features/weights/mnist28.npz
  python -m gan_jax.metrics.features.train_digit_classifier --model=fashion28 \\
      --path=../shared/data/fashion-mnist \\
      --output=gan_jax/metrics/features/weights/fashion28.npz

fashion28 trains on Fashion-MNIST's train split (60,000 images, --split=train) and is
tested on the whole t10k split (--test_split=test), never seen in training: both are
its defaults, as are 12 epochs with random left-right flips (--flip). The shipped
weights' test accuracies and training times are in docs/classifiers.md. To hold
examples of --split out instead, pass --test_split= (empty) and --num_test=N.

With MNIST's full train split prepared for TFDS (or its four IDX files in a folder,
with --source=idx --path=FOLDER), a classifier trained on all of it and tested on the
test split:

  python -m gan_jax.metrics.features.train_digit_classifier --model=mnist28 \
      --source=tfds --tfds_name=mnist --split=train --test_split=test --output=mnist28.npz

used through `get_extractor('mnist28', weights_path='mnist28.npz')` (or
config.eval.extractor_weights).

Data come from any labelled image source of `gan_jax.data` (digits, idx, npz, tfds,
folder; the --source, --path, ... options are the `config.data` fields of a run), scaled
as the pipeline scales them. The test set is either the split --test_split of the same
source (tfds, or an IDX folder, whose --split is train or test), or `--num_test`
examples of --split, drawn by a seeded stratified split and held out; either is only
used for the test accuracy, which is printed and stored in the weights file with the
rest of the recipe.

Training is deterministic: a fixed init key, per-epoch permutations drawn from the
seed, dropout keys folded from the step number. The same command with the same data,
JAX/XLA versions and CPU core count reproduces the weights bit for bit (the command
prints a digest of the params and whether it equals the shipped weights'). XLA's CPU
reductions split their work by core count, so elsewhere the weights differ in the last
bits (digits8 trained on 1 core instead of 2 has another digest and the same test
accuracy; docs/classifiers.md). The cache key of an extractor digests its params, so
statistics cached with one set of weights are never reused with another.
"""

import argparse
import functools
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
    # Fashion-MNIST has its own test split, so nothing is held out of the train split.
    'fashion28': {'source': 'idx', 'test_split': 'test', 'epochs': 12, 'batch_size': 64,
                  'flip': True},
}


def split(labels: np.ndarray, num_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """(train, test) indices: a stratified split holding out `num_test`, seeded by `seed`."""
  train, test = model_selection.train_test_split(
      np.arange(len(labels)), test_size=num_test, random_state=seed, stratify=labels)
  return np.sort(train), np.sort(test)


@functools.lru_cache(maxsize=16)
def _compiled_step(model: digit_classifier.DigitClassifier, learning_rate: float,
                   weight_decay: float, total_steps: int, flip: bool):
  """(optimizer, jitted training step) of one recipe, built once per process.

  Cached because compiling the step costs seconds, more than a small CAS training
  itself; the keys are arguments, not constants, so that seeds share the program.
  """
  schedule = optax.cosine_decay_schedule(learning_rate, total_steps)
  optimizer = optax.adamw(schedule, weight_decay=weight_decay)

  @jax.jit
  def step(params, opt_state, x, y, step_index, dropout_key, flip_key):
    if flip:
      mirror = jax.random.bernoulli(jax.random.fold_in(flip_key, step_index), 0.5, (len(x),))
      x = jnp.where(mirror[:, None, None, None], x[:, :, ::-1], x)

    def loss_fn(params):
      logits, _ = model.apply({'params': params}, x, train=True,
                              rngs={'dropout': jax.random.fold_in(dropout_key, step_index)})
      return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()
    loss, grads = jax.value_and_grad(loss_fn)(params)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss

  return optimizer, step


def train(model: digit_classifier.DigitClassifier, images: np.ndarray, labels: np.ndarray, *,
          epochs: int, batch_size: int, learning_rate: float = 1e-3,
          weight_decay: float = 1e-4, seed: int = 0, flip: bool = False,
          log=None) -> dict:
  """Trains `model` on float images in [-1, 1] and their labels; returns its params.

  AdamW with a cosine learning-rate decay, cross-entropy, dropout; the last partial
  batch of each epoch is dropped so that one compiled step serves every batch. With
  `flip`, each training image is mirrored left-right with probability 1/2 (keys folded
  from the step number, so still deterministic): right for clothing, wrong for digits.
  This is the routine behind the shipped weights and behind `gan_jax.metrics.cas`.
  `log`, when given, is called after each epoch as `log(epoch, mean training loss)`.
  """
  if len(images) < batch_size:
    raise ValueError(f'{len(images)} training examples are fewer than one batch of '
                     f'{batch_size}.')
  steps_per_epoch = len(images) // batch_size
  optimizer, step = _compiled_step(model, float(learning_rate), float(weight_decay),
                                   epochs * steps_per_epoch, bool(flip))
  key = jax.random.key(seed)
  params = model.init(key, jnp.zeros((1, *images.shape[1:]), jnp.float32))['params']
  opt_state = optimizer.init(params)
  dropout_key = jax.random.fold_in(key, 1)
  flip_key = jax.random.fold_in(key, 2)

  rng = np.random.default_rng(seed)
  step_index = 0
  for epoch in range(epochs):
    order = rng.permutation(len(images))
    epoch_loss = 0.0
    for b in range(steps_per_epoch):
      batch = order[b * batch_size:(b + 1) * batch_size]
      params, opt_state, loss = step(params, opt_state, images[batch], labels[batch],
                                     step_index, dropout_key, flip_key)
      step_index += 1
      if log is not None:  # Summed on the device: no host sync inside the epoch.
        epoch_loss = epoch_loss + loss
    if log is not None:
      log(epoch, float(epoch_loss) / steps_per_epoch)
  return jax.device_get(params)


@functools.lru_cache(maxsize=16)
def _compiled_apply(model: digit_classifier.DigitClassifier):
  """`jax.jit(model.apply)`, once per model: a fresh jit would compile again."""
  return jax.jit(model.apply)


def predict(model: digit_classifier.DigitClassifier, params: dict, images: np.ndarray,
            batch_size: int = 2000) -> np.ndarray:
  """The classes `model` gives `images` (floats in [-1, 1]), `batch_size` at a time.

  Batched because one pass over 60,000 28x28 images would hold gigabytes of
  activations; a shorter last batch costs one more compilation.
  """
  apply = _compiled_apply(model)
  classes = [np.argmax(np.asarray(apply({'params': params}, images[i:i + batch_size])[0]), -1)
             for i in range(0, len(images), batch_size)]
  return np.concatenate(classes) if classes else np.zeros(0, np.int64)


def accuracy(model: digit_classifier.DigitClassifier, params: dict, images: np.ndarray,
             labels: np.ndarray) -> float:
  """Fraction of `images` (floats in [-1, 1]) that `model` classifies as `labels`."""
  if len(images) == 0:
    raise ValueError('accuracy of no images: the test set is empty.')
  return float(np.mean(predict(model, params, images) == np.asarray(labels)))


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
  add('--split', default='train', help='config.data.split to train on (tfds; idx folders: '
      'train or test)')
  add('--test_split', help='a split of the same source to test on (e.g. test), instead of '
      'holding --num_test examples of --split out')
  add('--data_dir', default='', help='config.data.data_dir (tfds)')
  add('--num_test', type=int, help='examples of --split held out for the test accuracy '
      '(0 with --test_split)')
  add('--epochs', type=int, help='passes over the training examples')
  add('--batch_size', type=int, help='examples per step')
  add('--learning_rate', type=float, default=1e-3,
      help='peak AdamW learning rate (cosine decay to 0 over the run)')
  add('--weight_decay', type=float, default=1e-4, help='AdamW weight decay')
  add('--flip', action=argparse.BooleanOptionalAction,
      help='mirror training images left-right at random (default: on for fashion28 only)')
  add('--seed', type=int, default=0, help='seeds the split, the init, the order and dropout')
  args = parser.parse_args(argv)
  args.command = ' '.join([parser.prog, *argv])  # Recorded with the weights.
  # test_split is settled first: a model's default num_test holds examples out only
  # when no split is there to test on.
  for key, value in {'test_split': None, 'num_test': 0, 'flip': False,
                     **DEFAULTS[args.model]}.items():
    if getattr(args, key) is None:
      setattr(args, key, 0 if key == 'num_test' and args.test_split else value)
  if args.test_split and args.num_test:
    raise ValueError(f'--num_test={args.num_test} holds test examples out of --split, but '
                     f'--test_split={args.test_split} names the test set; use one of the two.')
  if not args.test_split and args.num_test < 1:
    raise ValueError('--num_test must be >= 1 without --test_split: nothing would be '
                     'left to test on.')
  return args


def load_train_and_test(args: argparse.Namespace
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
  """(train images, train labels, test images, test labels), uint8 and int, from `args`.

  Either the test set is the whole split --test_split of the source, or --num_test
  examples of --split held out by `split`; the train set never overlaps it.
  """
  fields = dict(path=args.path, labels_path=args.labels_path, tfds_name=args.tfds_name,
                data_dir=args.data_dir)
  images, labels = load_labelled_images(args.source, split=args.split, **fields)
  if not args.test_split:
    train_idx, test_idx = split(labels, args.num_test, args.seed)
    return images[train_idx], labels[train_idx], images[test_idx], labels[test_idx]
  test_images, test_labels = load_labelled_images(args.source, split=args.test_split, **fields)
  # Sources that ignore config.data.split (an IDX file, npz, folder) would hand back the
  # training data itself, and a test on it would measure nothing.
  if test_images.shape == images.shape and np.array_equal(test_images, images):
    raise ValueError(f'--split={args.split} and --test_split={args.test_split} give the same '
                     f'images: source {args.source!r} with this --path does not read splits '
                     f'(tfds and IDX folders do); use --num_test instead.')
  return images, labels, test_images, test_labels


def main(args: argparse.Namespace) -> dict:
  """Trains, reports and (with --output) writes the weights; returns their meta."""
  name = args.model
  config = digit_classifier.CONFIGS[name]
  train_images, train_labels, test_images, test_labels = load_train_and_test(args)
  if train_images.shape[1:] != config['input_shape']:
    raise ValueError(f'{name} takes images of shape {config["input_shape"]}; the source '
                     f'holds {train_images.shape[1:]}.')
  x, x_test = to_model_range(train_images), to_model_range(test_images)
  model = digit_classifier.make_classifier(name)
  start = time.time()

  def log(epoch, loss):
    print(f'epoch {epoch + 1}/{args.epochs}: loss {loss:.4f}, {time.time() - start:.0f} s',
          flush=True)

  params = train(model, x, train_labels, epochs=args.epochs, batch_size=args.batch_size,
                 learning_rate=args.learning_rate, weight_decay=args.weight_decay,
                 seed=args.seed, flip=args.flip, log=log)
  seconds = time.time() - start
  test_accuracy = accuracy(model, params, x_test, test_labels)
  train_accuracy = accuracy(model, params, x, train_labels)
  digest = digit_classifier.params_digest(params)
  tested_on = f'split {args.test_split}' if args.test_split else 'held out'
  print(f'{name}: {len(x)} train / {len(x_test)} test examples ({tested_on}), '
        f'{args.epochs} epochs in {seconds:.1f} s; train accuracy {train_accuracy:.4f}, '
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
      num_train=len(x), num_test=len(x_test), test_accuracy=test_accuracy,
      train_accuracy=train_accuracy, epochs=args.epochs, batch_size=args.batch_size,
      learning_rate=args.learning_rate, weight_decay=args.weight_decay, seed=args.seed,
      params_digest=digest, jax_version=jax.__version__, command=args.command)
  # Recorded only when used, so that the recipe in the meta of weights made before
  # these options existed (digits8, mnist28) reads the same as a rerun's.
  if args.test_split:
    meta['test_split'] = args.test_split
  if args.flip:
    meta['flip'] = True
  meta['train_seconds'] = round(seconds, 1)
  if args.output:
    digit_classifier.save_weights(args.output, params, meta)
    print(f'wrote {args.output}')
  return meta


if __name__ == '__main__':
  main(parse_args(sys.argv[1:]))
