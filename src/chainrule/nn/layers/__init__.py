"""Layers, one file per family."""

from .linear import Flatten, Identity, Linear
