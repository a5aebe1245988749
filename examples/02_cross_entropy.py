"""Cross-entropy by hand: the loss is -log of the probability given to the true class.

The notes' two examples: a network that gives the true class probability 0.504 pays -log(0.504) = 0.685;
one that gives it 0.006 (confident and wrong) pays -log(0.006) = 5.116. F.cross_entropy computes the same
from raw scores (logits) in one stable step, log p = z - logsumexp(z), and its gradient is softmax - onehot.

Run:  python examples/02_cross_entropy.py
"""

import numpy as np

import chainrule as cr
import chainrule.functional as F


def main() -> None:
    for p_true in (0.504, 0.006):
        print(f"p(true class) = {p_true:<6} ->  -log(p) = {-np.log(p_true):.3f}")

    # logits whose softmax gives the true class (index 0) probability 0.504 and 0.006
    probs = np.array([[0.504, 0.3, 0.196], [0.006, 0.9, 0.094]])
    logits = cr.tensor(np.log(probs), requires_grad=True)
    target = np.array([0, 0])
    per_sample = F.cross_entropy(logits, target, reduction="none")
    print("F.cross_entropy per sample:", per_sample.numpy().round(3))
    loss = F.cross_entropy(logits, target)  # the mean over the batch
    loss.backward()
    print(f"mean loss {loss.item():.4f}")
    onehot = F.one_hot(target, 3)
    print("gradient by autograd:\n", logits.grad.round(4))
    print("(softmax - onehot) / m:\n", ((probs - onehot) / 2).round(4))


if __name__ == "__main__":
    main()
