"""Stabilizers that any game's losses call: what D sees (DiffAugment, packing) and look-ahead.

Penalties on the critic (WGAN-GP, R1) and weight clipping are in `gan_jax.losses`.
"""
