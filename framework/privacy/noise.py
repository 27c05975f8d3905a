"""Noise for the release: a numpy generator seeded from the operating system's cryptographic source.

Production passes no seed: 128 bits from `secrets` seed a PCG64 stream, so nobody can predict or replay
the noise. Tests and benchmarks pass a seed to make runs reproducible; a seeded release is not private
against anyone who knows the seed, and the release record says whether a seed was used.

Known limit: noise is drawn in floating point (numpy's ziggurat Gaussian, inverse-CDF Laplace). Floating-
point samplers leak through their bit patterns in adversarial settings (Mironov, CCS 2012); only the
thresholded set of items is released here, never a noisy value, which removes the usual attack surface.
"""

from __future__ import annotations

import secrets

import numpy as np

from framework.privacy.plan import Noise


def noise_generator(seed: int | None = None) -> np.random.Generator:
    """PCG64 seeded with 128 bits from `secrets` (production), or with `seed` (tests, benchmarks)."""
    entropy = secrets.randbits(128) if seed is None else seed
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def draw_noise(
    generator: np.random.Generator, noise: Noise, scale: float, size: int | tuple[int, ...]
) -> np.ndarray:
    if noise == "gaussian":
        return generator.normal(0.0, scale, size)
    if noise == "laplace":
        return generator.laplace(0.0, scale, size)
    raise ValueError(f"unknown noise {noise!r}")
