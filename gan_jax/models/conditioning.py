"""Class conditioning shared by the model families: how a label enters G and D.

Generator (`Conditioning.generator`, '+'-joined):
  cbn      conditional BatchNorm (de Vries et al. 2017; Miyato & Koyama 2018): every
           BatchNorm of G normalises without its own scale and shift and takes a
           per-class scale and shift (embeddings of the label) instead.
  concat   a learned label embedding joined to z (Mirza & Osindero 2014, the original
           cGAN), for the MLP.
Discriminator (`Conditioning.discriminator`):
  projection  Miyato & Koyama 2018: logit(x, y) = psi(phi(x)) + <embed(y), phi(x)>, with
              phi(x) the features D's output layer reads; the embedding is a bias-free
              Dense on the one-hot label, so spectral norm applies to it as to any layer.
  acgan       Odena et al. 2017: a K-way classifier head on phi(x) beside the logit; D
              returns (logits (B,), class_logits (B, K)).
Auxiliary head (`Conditioning.head_outputs` > 0, no labels): InfoGAN's Q network
(Chen et al. 2016), which shares D's trunk: phi(x) -> [Dense(head_hidden) -> BatchNorm ->
LeakyReLU(0.2)] -> Dense(head_outputs); D returns (logits (B,), head (B, head_outputs)).

A model with `num_classes == 0` and no head is unconditional and ignores labels.
"""

import dataclasses
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from gan_jax.models import layers

G_CONDITIONINGS = ('cbn', 'concat')
D_CONDITIONINGS = ('projection', 'acgan')


@dataclasses.dataclass(frozen=True)
class Conditioning:
  """How a model takes labels; hashable, so it can be a flax module attribute."""
  num_classes: int = 0
  generator: str = ''  # '+'-joined names of G_CONDITIONINGS.
  discriminator: str = ''  # One of D_CONDITIONINGS.
  embed_dim: int = 0  # concat: size of the label embedding (0 = num_classes).
  head_outputs: int = 0  # Outputs of an auxiliary head on phi(x) (InfoGAN's Q); 0 = none.
  head_hidden: int = 0  # Width of that head's hidden layer (0 = a linear head).

  @property
  def g_parts(self) -> tuple[str, ...]:
    return tuple(p for p in self.generator.split('+') if p) if self.num_classes else ()

  @property
  def cbn(self) -> bool:
    return 'cbn' in self.g_parts

  @property
  def concat(self) -> bool:
    return 'concat' in self.g_parts


UNCONDITIONAL = Conditioning()


def check(conditioning: Conditioning) -> None:
  """A ValueError naming the `config.game.conditional` field that is not understood."""
  for part in conditioning.generator.split('+'):
    if part not in G_CONDITIONINGS:
      raise ValueError(f'config.game.conditional.g_conditioning={conditioning.generator!r} '
                       f'has {part!r}; known: {", ".join(G_CONDITIONINGS)}, joined by +.')
  if conditioning.discriminator not in D_CONDITIONINGS:
    raise ValueError(f'config.game.conditional.d_conditioning={conditioning.discriminator!r} '
                     f'is unknown; known: {", ".join(D_CONDITIONINGS)}.')


class ClassTable(nn.Module):
  """A per-class row of a (num_classes, features) table: labels (B,) -> (B, features).

  The parameters of nn.Embed ('embedding', same shape and initialiser), but looked up
  as a one-hot matrix product: its gradient is a matmul, where nn.Embed's gather has a
  scatter-add for a gradient, which XLA's CPU backend runs several times slower.
  """
  num_classes: int
  features: int
  init: Callable = nn.initializers.zeros

  @nn.compact
  def __call__(self, labels: jax.Array) -> jax.Array:
    table = self.param('embedding', self.init, (self.num_classes, self.features), jnp.float32)
    return jax.nn.one_hot(labels, self.num_classes, dtype=table.dtype) @ table


class ConditionalBatchNorm(nn.Module):
  """BatchNorm whose scale and shift are looked up per class: (B, ..., C), (B,) -> (B, ..., C).

  Statistics as `layers.batch_norm` keeps them (batch statistics in train mode, running
  ones in eval mode, momentum BATCH_NORM_MOMENTUM); scales start at N(1, 0.02), shifts at 0.
  """
  num_classes: int
  train: bool
  dtype: jnp.dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jax.Array, labels: jax.Array) -> jax.Array:
    x = nn.BatchNorm(use_running_average=not self.train, momentum=layers.BATCH_NORM_MOMENTUM,
                     use_scale=False, use_bias=False, dtype=self.dtype,
                     param_dtype=jnp.float32)(x)
    channels = x.shape[-1]
    scale = ClassTable(self.num_classes, channels, layers.dcgan_scale_init, name='scale')(labels)
    shift = ClassTable(self.num_classes, channels, name='shift')(labels)
    shape = (x.shape[0],) + (1,) * (x.ndim - 2) + (channels,)
    return x * scale.reshape(shape).astype(x.dtype) + shift.reshape(shape).astype(x.dtype)


def generator_norm(conditioning: Conditioning, train: bool, dtype, labels, name=None,
                   plain=None):
  """The normalisation `x -> x'` of a generator layer: cBN when conditioned, else `plain`.

  `plain` is the family's own unconditional BatchNorm module (built by the caller, so
  unconditional models keep their parameter names).
  """
  if conditioning.cbn:
    module = ConditionalBatchNorm(conditioning.num_classes, train, dtype, name=name)
    return lambda x: module(x, labels)
  return plain


def embed_into_latent(conditioning: Conditioning, z: jax.Array, labels) -> jax.Array:
  """z joined with a learned label embedding when G conditions by concat, else z."""
  if not conditioning.concat:
    return z
  width = conditioning.embed_dim or conditioning.num_classes
  embedding = nn.Embed(conditioning.num_classes, width, name='label_embedding')(labels)
  return jnp.concatenate([z, embedding.astype(z.dtype)], axis=-1)


def discriminator_outputs(conditioning: Conditioning, logits: jax.Array, features: jax.Array,
                          labels, *, spectral_norm: bool, train: bool, dtype, kernel_init=None):
  """D's outputs from its logits (B,) and the features phi(x) (B, F) its output layer read.

  Unconditional: the logits. projection: logits + <embed(y), phi(x)>. acgan: (logits,
  class_logits (B, K)). Must be called inside the discriminator's compact method.
  """
  if conditioning.head_outputs:
    return logits, auxiliary_head(conditioning, features, spectral_norm=spectral_norm,
                                  train=train, dtype=dtype, kernel_init=kernel_init)
  if not conditioning.num_classes:
    return logits
  dense_kwargs = {} if kernel_init is None else {'kernel_init': kernel_init}
  if conditioning.discriminator == 'projection':
    one_hot = jax.nn.one_hot(labels, conditioning.num_classes, dtype=dtype)
    embedded = layers.apply_layer(
        nn.Dense(features.shape[-1], use_bias=False, dtype=dtype, name='projection',
                 **dense_kwargs),
        one_hot, spectral_norm=spectral_norm, train=train)
    projection = jnp.sum(embedded.astype(jnp.float32) * features.astype(jnp.float32), axis=-1)
    return logits + projection
  class_logits = layers.apply_layer(
      nn.Dense(conditioning.num_classes, dtype=dtype, name='classifier', **dense_kwargs),
      features, spectral_norm=spectral_norm, train=train)
  return logits, class_logits.astype(jnp.float32)


def auxiliary_head(conditioning: Conditioning, features: jax.Array, *, spectral_norm: bool,
                   train: bool, dtype, kernel_init=None) -> jax.Array:
  """InfoGAN's Q head on D's features phi(x): (B, F) -> (B, head_outputs) float32.

  With `head_hidden`, one hidden layer with BatchNorm and LeakyReLU first (the paper's
  MNIST Q: FC 128, BN, lReLU). Must be called inside the discriminator's compact method.
  """
  dense_kwargs = {} if kernel_init is None else {'kernel_init': kernel_init}
  h = features
  if conditioning.head_hidden:
    h = layers.apply_layer(
        nn.Dense(conditioning.head_hidden, use_bias=False, dtype=dtype, name='q_hidden',
                 **dense_kwargs), h, spectral_norm=spectral_norm, train=train)
    h = layers.batch_norm(train, dtype)(h)
    h = nn.leaky_relu(h, negative_slope=0.2)
  out = layers.apply_layer(
      nn.Dense(conditioning.head_outputs, dtype=dtype, name='q_head', **dense_kwargs), h,
      spectral_norm=spectral_norm, train=train)
  return out.astype(jnp.float32)
