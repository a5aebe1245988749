"""An LSTM reads each MNIST digit row by row (28 time steps of 28 pixels) and classifies its last state.

At each step the gates decide what to forget (f), what to write (i, g) and what to show (o):
    c_t = f * c_(t-1) + i * g,   h_t = o * tanh(c_t)
and the final h_28 goes through a Linear layer to 10 logits. Needs the MNIST IDX files (no download here):

Run:  python examples/12_lstm_mnist.py --data-dir /path/to/datasets [--train-size 10000] [--epochs 2]
"""

from _mnist import train_and_report  # the shared command line, data loading, training and report

from chainrule import nn


def build() -> nn.Module:
    return nn.models.LSTMClassifier(input_size=28, hidden_size=64, num_classes=10)


if __name__ == "__main__":
    train_and_report(__doc__, build, lr=0.005)
