"""Semi-supervised GAN on MNIST with 100 labels: Salimans et al. (2016)'s setting.

The paper's MNIST recipe (its `train_mnist_feature_matching.py`): the classifier D
784-1000-500-250-250-250-10 with Gaussian noise (0.3 on the [0, 1] input, i.e. 0.6 on
the [-1, 1] images here; 0.5 after each hidden layer) and weight normalisation, G
100-500-500-784 with softplus and BatchNorm, trained by feature matching (on the last
hidden layer's output before its noise); 100 labelled examples (10 per class) beside the 60,000
training images as the unlabelled pool; batches of 100 labelled + 100 unlabelled;
Adam with lr 0.003 and beta1 0.5; 300 epochs (180,000 steps); D's weight-normalised
layers initialised from the first batch with their hidden scales then fixed, and their
directions drawn from N(0, 0.1), as in the code (`model.d_data_init`,
`d_train_hidden_scale`, `d_kernel_stddev`). The paper reports 0.93% test error (std 0.065
over 10 seeds). Differences: G's output is tanh (images in [-1, 1]) instead of sigmoid, z
is Gaussian instead of uniform, the init reads the first batch (100 unlabelled images)
rather than 500, G's feature matching reads D's unlabelled batch rather than a second
one, and the evaluated D is an EMA with decay 0.9999 (the paper's averaging rate, 1e-4).

It needs the MNIST *training* split, from TFDS (`tfds build mnist --file_format=
array_record`, the default here) or an IDX folder:
  python -m gan_jax.main --config=experiments/mnist_ssgan.py --workdir=runs/mnist_ssgan
  python -m gan_jax.main --config=experiments/mnist_ssgan.py --workdir=runs/mnist_ssgan \
      --config.data.name=idx --config.data.path=/path/to/mnist  # train-images-idx3-ubyte[.gz] ...
This machine has only MNIST's test split (../shared/data/mnist/), so this config has
not been run to its end here; see docs/semi_supervised.md.
"""

from gan_jax.default_config import get_base_config


def get_config():
  """The paper's MNIST feature-matching recipe with 100 labels."""
  config = get_base_config()
  config.game.name = 'semi_supervised'
  config.game.semi_supervised.unlabeled_weight = 0.5
  config.game.semi_supervised.g_loss = 'feature_matching'
  config.data.name = 'tfds'
  config.data.tfds_name = 'mnist'
  config.data.num_labeled = 100
  config.model.name = 'improved_gan'
  config.model.latent_dim = 100
  config.model.d_hidden_dims = (1000, 500, 250, 250, 250)
  config.model.g_hidden_dims = (500, 500)
  # The paper adds noise of std 0.3 to pixels in [0, 1]; the same noise relative to the
  # image is std 0.6 on the [-1, 1] pixels here.
  config.model.d_input_noise = 0.6
  config.model.d_hidden_noise = 0.5
  config.model.d_data_init = True
  config.model.d_train_hidden_scale = False
  config.model.d_kernel_stddev = 0.1
  config.batch_size = 100
  config.num_train_steps = 180_000  # 300 epochs of 600 batches.
  config.optim.g_lr = 3e-3
  config.optim.d_lr = 3e-3
  config.optim.b1 = 0.5
  config.optim.ema_decay = 0.9999
  config.log_every_steps = 200
  config.sample_every_steps = 5000
  config.checkpoint_every_steps = 5000
  # D's accuracy on the test split (never trained on), logged as eval/classifier_accuracy.
  # The reported figures are the last checkpoint's; workdir/best, kept by this metric,
  # would be chosen on the test set.
  config.eval.metrics = ('classifier_accuracy',)
  config.eval.reference_split = 'test'
  config.eval.num_real = 10_000
  config.eval.every_steps = 5000
  return config
