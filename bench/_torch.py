"""PyTorch (CPU) runner: ``python bench/_torch.py --workload mlp_train [--data-dir DIR] ...``.

The reference every ratio in RESULTS.md is taken against. Models use PyTorch's default initialisation;
inference runs under ``torch.no_grad()`` in eval mode, as chainrule's runs under ``cr.no_grad()``.
"""

from __future__ import annotations

import _common as C
import torch
from torch import nn
from torch.nn import functional as F


def mlp() -> nn.Module:
    return nn.Sequential(nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 10))


def cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(3136, 128), nn.ReLU(), nn.Linear(128, 10),
    )  # fmt: skip


class LSTMNet(nn.Module):
    """The 28 rows of an image as 28 time steps -> LSTM(28, 128) -> last hidden state -> Linear(128, 10)."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)

    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])


def _train(args, model, shape):
    x, y, data = C.load_split(args, "train")
    get = C.batches(torch.from_numpy(x.reshape(len(x), *shape)), torch.from_numpy(y), args.batch)
    opt = torch.optim.SGD(model.parameters(), lr=C.LR, momentum=C.MOMENTUM)
    model.train()

    def step(i):
        xb, yb = get(i)
        opt.zero_grad()
        loss = F.cross_entropy(model(xb), yb)
        loss.backward()
        opt.step()

    return "step", step, data


def _infer(args, model, shape):
    x, y, data = C.load_split(args, "test")
    get = C.batches(torch.from_numpy(x.reshape(len(x), *shape)), torch.from_numpy(y), args.batch)
    model.eval()

    def step(i):
        with torch.no_grad():
            model(get(i)[0])

    return "step", step, data


BUILDERS = {
    "mlp_train": lambda a: _train(a, mlp(), (784,)),
    "mlp_infer": lambda a: _infer(a, mlp(), (784,)),
    "cnn_train": lambda a: _train(a, cnn(), (1, 28, 28)),
    "cnn_infer": lambda a: _infer(a, cnn(), (1, 28, 28)),
    "lstm_train": lambda a: _train(a, LSTMNet(), (28, 28)),
}

if __name__ == "__main__":
    torch.manual_seed(0)
    C.run("torch", BUILDERS, f"{torch.__version__} (threads {torch.get_num_threads()})")
