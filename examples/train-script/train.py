"""A user's own training script, as allocator runs it: it reads its device from the
environment (ALLOCATOR_DEVICE: cuda:0 or cpu), trains a small model on random data, and
exits 0 when done (non-zero means failed)."""

import argparse
import os
import sys


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--width", type=int, default=256)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("this example needs torch: pip install -e '.[torch]'", file=sys.stderr)
        return 1
    device = torch.device(os.environ.get("ALLOCATOR_DEVICE", "cpu"))
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(args.width, args.width), torch.nn.ReLU(),
                                torch.nn.Linear(args.width, 1)).to(device)
    opt = torch.optim.Adam(model.parameters())
    x, y = torch.randn(512, args.width, device=device), torch.randn(512, 1, device=device)
    for epoch in range(args.epochs):
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        print(f"{os.environ.get('ALLOCATOR_TASK', 'train')}: epoch {epoch + 1} "
              f"loss {loss.item():.4f} on {device}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
