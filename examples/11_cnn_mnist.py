"""A LeNet-style CNN on MNIST: (conv 5x5 -> ReLU -> max-pool 2x2) x 2 -> Linear 120 -> 84 -> 10.

A convolution slides a small filter over the image, sharing its weights across positions; pooling keeps
the strongest response in each 2x2 window. Needs the MNIST IDX files (no download here):

Run:  python examples/11_cnn_mnist.py --data-dir /path/to/datasets [--train-size 10000] [--epochs 2]
"""

from _mnist import train_and_report  # the shared command line, data loading, training and report

from chainrule import nn


def build() -> nn.Module:
    return nn.models.lenet((1, 28, 28), 10)


if __name__ == "__main__":
    train_and_report(__doc__, build, lr=0.002)
