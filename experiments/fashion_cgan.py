"""A class-conditional DCGAN on 28x28 Fashion-MNIST: cBN in G, the projection discriminator.

Trains on the train split (60,000 images) and is scored against the test split
(`eval.reference_split='test'`, never trained on) with the `fashion28` classifier:
class accuracy of samples (beside the classifier's own test accuracy), FID, intra-class
FID, KID, precision/recall.

Data: TFDS `fashion_mnist` (prepare it once: `tfds build fashion_mnist
--file_format=array_record`), or the IDX files, e.g. from Debian's dataset-fashion-mnist:
  python -m gan_jax.main --config=experiments/fashion_cgan.py --workdir=runs/fashion_cgan \
      --config.data.name=idx --config.data.path=/usr/share/datasets/fashion-mnist
"""

from gan_jax.default_config import get_base_config


def get_config():
  """DCGAN (z 100, 32 base channels) with cBN + projection, batch 64, 38,000 steps."""
  config = get_base_config()
  config.game.name = 'conditional'
  config.game.conditional.g_conditioning = 'cbn'
  config.game.conditional.d_conditioning = 'projection'
  config.data.name = 'tfds'
  config.data.tfds_name = 'fashion_mnist'
  config.data.split = 'train'
  config.model.name = 'dcgan'
  config.model.latent_dim = 100
  # Half the DCGAN paper's width, so that a run fits on two CPU cores (times: docs/games.md).
  config.model.g_features = 32
  config.model.d_features = 32
  config.batch_size = 64
  config.num_train_steps = 38_000
  config.sample_every_steps = 1000
  config.checkpoint_every_steps = 2500
  config.num_grid_samples = 100  # 10 samples of each class, one row per class.
  config.eval.metrics = ('class_accuracy', 'fid', 'intra_fid', 'within_class_diversity', 'kid',
                         'precision_recall')
  config.eval.extractor = 'fashion28'
  config.eval.reference_split = 'test'
  config.eval.num_samples = 10_000
  config.eval.every_steps = 5000
  return config
