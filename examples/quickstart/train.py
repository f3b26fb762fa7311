"""A tiny, dependency-free training script for trying Labbook.

Fits y = 3x + 2 (plus noise) by gradient descent and prints the loss per epoch.
    python train.py --lr 0.05 --epochs 30 --seed 1
"""
import argparse
import random


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    data = [(x, 3 * x + 2 + rng.gauss(0, 0.1)) for x in (rng.uniform(-1, 1) for _ in range(200))]
    w, b = 0.0, 0.0
    for epoch in range(args.epochs):
        gw = sum(2 * (w * x + b - y) * x for x, y in data) / len(data)
        gb = sum(2 * (w * x + b - y) for x, y in data) / len(data)
        w, b = w - args.lr * gw, b - args.lr * gb
        loss = sum((w * x + b - y) ** 2 for x, y in data) / len(data)
        print(f"epoch {epoch} loss {loss:.5f}")
    print(f"w={w:.3f} b={b:.3f}")


if __name__ == "__main__":
    main()
