"""Stable softmax and its Jacobian.

softmax(z)_i = exp(z_i - m) / sum_j exp(z_j - m) with m = max_j z_j. Subtracting m changes nothing
mathematically (it cancels) but keeps exp from overflowing. The Jacobian is
    d softmax_i / d z_j = s_i (delta_ij - s_j),   i.e.  J = diag(s) - s s^T,
and chainrule's autograd reproduces it one row at a time (one backward pass per output).

Run:  python examples/01_softmax.py
"""

import numpy as np

import chainrule as cr
import chainrule.functional as F


def naive_softmax(z):
    e = np.exp(z)
    return e / e.sum()


def main() -> None:
    z = np.array([1.0, 2.0, 3.0])
    s = F.softmax(cr.tensor(z)).numpy()
    print("z                =", z)
    print("softmax(z)       =", s.round(4), " sum =", round(float(s.sum()), 6))

    big = np.array([1000.0, 1001.0, 1002.0])
    with np.errstate(over="ignore", invalid="ignore"):
        print("naive softmax of", big, "=", naive_softmax(big), "(exp overflowed: inf / inf = nan)")
    print("stable softmax of", big, "=", F.softmax(cr.tensor(big)).numpy().round(4), "(the same as for z)")

    # the Jacobian by autograd: row i is the gradient of s_i with respect to z
    rows = []
    for i in range(len(z)):
        zt = cr.tensor(z, requires_grad=True)
        F.softmax(zt)[i].backward()
        rows.append(zt.grad)
    j_autograd = np.stack(rows)
    j_formula = np.diag(s) - np.outer(s, s)
    print("Jacobian by autograd:\n", j_autograd.round(4))
    print("diag(s) - s s^T:\n", j_formula.round(4))
    print("max difference:", float(np.abs(j_autograd - j_formula).max()))
    print("each row sums to 0 (the outputs always sum to 1):", np.abs(j_autograd.sum(axis=1)).max() < 1e-6)


if __name__ == "__main__":
    main()
