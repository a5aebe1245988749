"""Momentum and the two learning-rate decay schedules of the notes.

Momentum keeps a running velocity v <- mu v + g and steps w <- w - lr v, so consistent gradient directions
build up speed while oscillating ones cancel. The schedules lower the learning rate over N steps:
    linear:       a_t = a_0 - (a_0 - a_N) t / N
    exponential:  a_t = a_0 ((a_N / a_0)^(1/N))^t
Stepped once per epoch, epoch k trains at t = k - 1: for the last of E epochs to train at a_N, N = E - 1.

Run:  python examples/09_momentum_and_schedules.py
"""

import numpy as np

import chainrule as cr
from chainrule import data, nn, optim, train
from chainrule.optim import lr_scheduler


def run(x_tr, y_tr, x_te, y_te, make_opt, make_sched=None, epochs=8):
    cr.manual_seed(0)
    model = nn.models.mlp([64, 64, 10], activation="tanh", init="xavier")
    opt = make_opt(model.parameters())
    sched = make_sched(opt) if make_sched else None
    h = train.fit(model, nn.CrossEntropyLoss(), opt, (x_tr, y_tr), epochs=epochs, batch_size=64, scheduler=sched,
                  seed=0, verbose=False, metrics=())
    acc = np.mean(train.predict(model, x_te).argmax(axis=1) == y_te)
    return h, acc


def main() -> None:
    (x_tr, y_tr), (x_te, y_te) = data.load_digits(flatten=True)
    print("training loss per epoch (8 epochs of a 64-64-10 tanh network on the digits):")
    for name, make in [("SGD lr 0.05", lambda p: optim.SGD(p, lr=0.05)),
                       ("SGD lr 0.05, momentum 0.9", lambda p: optim.SGD(p, lr=0.05, momentum=0.9)),
                       ("SGD lr 0.05, Nesterov 0.9", lambda p: optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
                       ("Adam lr 0.002", lambda p: optim.Adam(p, lr=0.002))]:
        h, acc = run(x_tr, y_tr, x_te, y_te, make)
        print(f"  {name:<27} {np.round(h['loss'], 3)}  test accuracy {acc:.3f}")

    epochs = 8
    n = epochs - 1  # one step after each epoch but the last: epoch 8 trains at t = 7 = N, at lr_end
    print(f"\nlearning rate per epoch, from 0.1 at epoch 1 down to 0.001 at epoch {epochs} (N = {n} steps), "
          "and what it gives (momentum 0.9):")
    for name, make_sched in [("linear decay", lambda o: lr_scheduler.LinearDecay(o, lr_end=0.001, total_steps=n)),
                             ("exponential decay",
                              lambda o: lr_scheduler.ExponentialDecay(o, lr_end=0.001, total_steps=n))]:
        h, acc = run(x_tr, y_tr, x_te, y_te, lambda p: optim.SGD(p, lr=0.1, momentum=0.9), make_sched, epochs)
        print(f"  {name:<18} lr {np.round(h['lr'], 4)}")
        print(f"  {'':<18} loss {np.round(h['loss'], 3)}  test accuracy {acc:.3f}")
    a0, aN = 0.1, 0.001
    print(f"\nby the formulas at t = 4 (epoch 5): linear {a0 - (a0 - aN) * 4 / n:.4f}, "
          f"exponential {a0 * ((aN / a0) ** (1 / n)) ** 4:.4f}")


if __name__ == "__main__":
    main()
