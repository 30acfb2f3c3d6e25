#!/usr/bin/env python3
"""compare_runs.py A/last.pt B/last.pt [REL]: the model weights and buffers of
two RevUp checkpoints agree within REL (default 1e-6) relative to each
tensor's largest magnitude. Prints the largest difference; exit 1 names the
first tensor that differs. Debian's python3-torch reads our archives
(LibTorch's format) with torch.jit.load."""
import sys

import torch


def state(path):
    model = torch.jit.load(path, map_location="cpu").model
    tensors = {f"param {k}": v for k, v in model.named_parameters()}
    tensors.update({f"buffer {k}": v for k, v in model.named_buffers()})
    return tensors


def main(a, b, rel):
    sa, sb = state(a), state(b)
    if sa.keys() != sb.keys():
        raise SystemExit(f"different tensors: {sorted(sa.keys() ^ sb.keys())[:5]}")
    worst = 0.0
    for name, x in sa.items():
        y = sb[name]
        if x.shape != y.shape:
            raise SystemExit(f"{name}: shape {tuple(x.shape)} vs {tuple(y.shape)}")
        scale = max(float(x.abs().max()), 1e-12) if x.numel() else 1.0
        diff = float((x.double() - y.double()).abs().max()) / scale if x.numel() else 0.0
        worst = max(worst, diff)
        if diff > rel:
            raise SystemExit(f"{name}: relative difference {diff:.3g} > {rel:g}")
    print(f"{len(sa)} tensors agree: largest relative difference {worst:.3g}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], float(sys.argv[3]) if len(sys.argv) > 3 else 1e-6)
