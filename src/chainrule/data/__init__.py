"""Datasets and loaders: array datasets, batching, the embedded digits, MNIST/Fashion-MNIST, CSV, 2-D toys.

>>> from chainrule import data
>>> (x_train, y_train), (x_test, y_test) = data.load_digits()
>>> loader = data.DataLoader(data.TensorDataset(x_train, y_train), batch_size=64, shuffle=True, seed=0)
>>> xb, yb = next(iter(loader))
>>> xb.shape, yb.shape, len(loader)
((64, 1, 8, 8), (64,), 60)
"""

from .dataset import Dataset, TensorDataset, train_val_split
from .digits import load_digits
from .download import cache_dir
from .idx import read_idx
from .loader import DataLoader
from .mnist import FASHION_CLASSES, load_fashion_mnist, load_mnist
from .preprocessing import Standardizer
from .synthetic import make_circles, make_moons, make_spirals, make_xor
from .tabular import TabularData, load_csv

__all__ = [
    "Dataset",
    "TensorDataset",
    "DataLoader",
    "train_val_split",
    "Standardizer",
    "load_digits",
    "load_mnist",
    "load_fashion_mnist",
    "FASHION_CLASSES",
    "read_idx",
    "cache_dir",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_xor",
    "load_csv",
    "TabularData",
]
