"""pix2pix on edges -> Fashion-MNIST (28x28): draw a garment's outline, get the garment.

Pairs are made offline by a fixed operator (`config.data.pairs='edges'`: the thresholded
Sobel magnitude of each image, see `gan_jax/data/paired.py`), from the train split
(60,000 images); the test split is held out (`eval.reference_split='test'`), never
trained on, and is what the metrics score: L1, PSNR and SSIM of translated test edges
against their images, the `fashion28` classifier's accuracy on the translations against
the originals' labels (beside its accuracy on the originals: pix2pix's FCN-score), FID.

The networks are the paper's at a quarter of its width: a U-Net with 32 base channels
(28x28 inputs are reflect-padded to 32x32 and halved 5 times, down to 1x1) and a
PatchGAN with 2 strided layers (34x34 receptive field; each of its 5x5 logits sees most
of the image). Batch 32, 2,000 steps (64,000 pairs, about one epoch); measured run times
on 2 CPU cores are in docs/translation.md.

Data: TFDS `fashion_mnist` (prepare it once: `tfds build fashion_mnist
--file_format=array_record`), or the IDX files (here `../shared/data/fashion-mnist`):
  python -m gan_jax.main --config=experiments/edges2fashion_pix2pix.py \\
      --workdir=runs/edges2fashion --config.data.name=idx \\
      --config.data.path=../shared/data/fashion-mnist
The paper's ablation: --config.game.pix2pix.adversarial_weight=0 (L1 only) and
--config.game.pix2pix.l1_weight=0 (cGAN only); see docs/translation.md.
"""

from gan_jax.default_config import get_base_config


def get_config():
  """U-Net (32 channels) and a 2-layer PatchGAN, L1 weight 100, batch 32, 2,000 steps."""
  config = get_base_config()
  config.game.name = 'pix2pix'
  config.game.pix2pix.l1_weight = 100.0
  config.game.pix2pix.adversarial_weight = 1.0
  config.data.name = 'tfds'
  config.data.tfds_name = 'fashion_mnist'
  config.data.split = 'train'
  config.data.pairs = 'edges'
  config.model.name = 'unet'
  config.model.norm = 'batch'
  config.model.g_features = 32
  config.model.d_features = 32
  config.model.patch_layers = 2
  config.loss.name = 'non_saturating'
  config.optim.g_lr = 2e-4
  config.optim.d_lr = 2e-4
  config.optim.b1 = 0.5
  config.batch_size = 32
  config.num_train_steps = 2000
  config.log_every_steps = 100
  config.sample_every_steps = 500
  config.checkpoint_every_steps = 1000
  config.num_grid_samples = 32
  config.eval.metrics = ('translation', 'fcn_score', 'fid')
  config.eval.primary = 'fcn_accuracy'
  config.eval.extractor = 'fashion28'
  config.eval.reference_split = 'test'
  config.eval.num_samples = 10_000
  config.eval.num_real = 10_000
  return config
