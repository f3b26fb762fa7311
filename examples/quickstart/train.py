"""A tiny, dependency-free training script for trying Labbook.

Fits y = 3x + 2 (plus noise) read from data/points.csv by gradient descent.
    python train.py --lr 0.05 --epochs 30
Tracked:  labbook run -- python train.py --lr 0.05
"""
import argparse
import csv
import json

import labbook  # Labbook's logging module; outside a tracked run its calls do nothing


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()

    with open("data/points.csv", newline="") as f:
        data = [(float(r["x"]), float(r["y"])) for r in csv.DictReader(f)]
    w, b = 0.0, 0.0
    for epoch in range(args.epochs):
        gw = sum(2 * (w * x + b - y) * x for x, y in data) / len(data)
        gb = sum(2 * (w * x + b - y) for x, y in data) / len(data)
        w, b = w - args.lr * gw, b - args.lr * gb
        loss = sum((w * x + b - y) ** 2 for x, y in data) / len(data)
        labbook.log_metric("loss", loss, step=epoch)
        print(f"epoch {epoch} loss {loss:.5f}")
    labbook.log_metric("w", w)
    labbook.log_metric("b", b)
    with open("model.json", "w") as f:
        json.dump({"w": w, "b": b}, f)
    print(f"w={w:.3f} b={b:.3f}")


if __name__ == "__main__":
    main()
