"""How recognisable a digits run's samples are: the share a classifier is confident on.

A sample counts as recognisable when a classifier of the real digits gives its most
likely class a probability of at least `--threshold` (0.9). Two classifiers judge:

* `mlp`: scikit-learn's multilayer perceptron (one hidden layer of 128), trained on 70%
  of scikit-learn's 1,797 digits (a seeded stratified split). It shares nothing with
  gan_jax, so it is the independent check; the held-out 30% of real digits give the
  figure to compare with. (An RBF SVC is more accurate but its Platt-scaled
  probabilities are timid: it is confident on only 83% of real held-out digits.)
* `digits8`: gan_jax's own feature network (the main job's FID and Inception Score).

  python benchmarks/sample_confidence.py runs/digits_dcgan [more workdirs...]

prints one JSON line per workdir (and one for the real held-out digits) with the
confident shares and the class histogram of the confident samples. Where the digit is
known (the real digits' labels; the class a conditional run was asked for, cycling
0..9) it also prints `mlp_confident_and_right`: the share the MLP is confident on *and*
calls the intended digit, so a conditional generator cannot score by drawing some other
clear digit.
"""

import argparse
import json

import numpy as np
from sklearn import datasets
from sklearn import model_selection
from sklearn import neural_network

from gan_jax.metrics.features import digit_classifier
from gan_jax.run import class_labels
from gan_jax.run import load_run


def train_mlp(seed: int = 0):
  """The MLP, fitted on 70% of the digits; returns it and the held-out (images, labels)."""
  digits = datasets.load_digits()
  x_train, x_test, y_train, y_test = model_selection.train_test_split(
      digits.data, digits.target, test_size=0.3, stratify=digits.target, random_state=seed)
  classifier = neural_network.MLPClassifier((128,), max_iter=2000, random_state=seed)
  classifier.fit(x_train, y_train)
  # Back to the data pipeline's range: scikit-learn's pixels are 0..16.
  return classifier, (x_test / 8.0 - 1.0).reshape(-1, 8, 8, 1), y_test


def confidences(images: np.ndarray, mlp, threshold: float, labels=None) -> dict:
  """Confident shares under both classifiers, for NHWC 8x8x1 images in [-1, 1]; with
  `labels`, also the share confident on the intended digit."""
  flat = (np.clip(images, -1.0, 1.0).reshape(len(images), 64) + 1.0) * 8.0
  mlp_probs = mlp.predict_proba(flat)
  logits = digit_classifier.make_extractor('digits8').extract(
      np.asarray(images, np.float32))['logits']
  digits8_probs = np.exp(logits - logits.max(1, keepdims=True))
  digits8_probs /= digits8_probs.sum(1, keepdims=True)
  confident = mlp_probs.max(1) >= threshold
  right = {} if labels is None else {'mlp_confident_and_right': float(
      (confident & (mlp_probs.argmax(1) == np.asarray(labels))).mean())}
  return {
      'mlp_confident': float(confident.mean()),
      'digits8_confident': float((digits8_probs.max(1) >= threshold).mean()),
      'mlp_confident_class_counts': np.bincount(mlp_probs.argmax(1)[confident],
                                                minlength=10).tolist(),
      **right,
  }


def main():
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('workdirs', nargs='*', help='runs on the digits (8x8x1) to judge')
  parser.add_argument('--num_samples', type=int, default=2000)
  parser.add_argument('--threshold', type=float, default=0.9)
  parser.add_argument('--seed', type=int, default=0, help='sampling noise seed')
  args = parser.parse_args()
  mlp, real_images, real_labels = train_mlp()
  print(json.dumps({'workdir': 'real held-out digits', 'num': len(real_images),
                    **confidences(real_images, mlp, args.threshold, real_labels)}))
  for workdir in args.workdirs:
    run = load_run(workdir)
    # A conditional run draws the digits 0..9 in turn; the labels asked for are the truth.
    labels = (class_labels(args.num_samples, run.num_classes) if run.is_conditional
              else None)
    samples = run.sample(args.num_samples, seed=args.seed, labels=labels)
    print(json.dumps({'workdir': workdir, 'step': run.step, 'num': args.num_samples,
                      **confidences(samples, mlp, args.threshold, labels)}))


if __name__ == '__main__':
  main()
