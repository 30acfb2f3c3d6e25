"""Python, a consumer we did not write, loads our exports and reproduces C++'s numbers.

    /usr/bin/python3 python_consumers.py DIR

DIR holds what revup_export_fixture wrote: for each of "classifier" and
"segmentation", NAME.pt (TorchScript), NAME.pth with NAME.architecture.json
(weights and the op list) and NAME.io.pt ({"input", "output"}: raw pixels and
the C++ model's eval forward on them). torch.jit.load runs the TorchScript;
the weights run through a forward rebuilt here from the op list in plain
torch.nn.functional, as a user without RevUp would write it. Both must equal
C++'s output within 1e-5 (the same aten kernels on the same float32 tensors;
a wrong op or a missing normalization is >= 1e-2).

Debian's python3-torch only; nothing else (no onnx, no numpy).
"""
import json
import sys

TOLERANCE = 1e-5

try:
    import torch
    import torch.nn.functional as F
except ImportError as e:
    print(f"FAIL: Python cannot import torch ({e}): install python3-torch (./revup.sh deps)")
    sys.exit(1)


def run_graph(graph, weights, x):
    """The exported op list (architecture.json "graph") in torch.nn.functional."""
    v = [x]
    for op in graph["ops"]:
        a = v[op["inputs"][0]]
        t = [weights[name] for name in op["tensors"]]
        ints = op["ints"]
        kind = op["op"]
        if kind == "normalize":
            # float32 minus float64 statistics computes in float64, as RevUp's io does.
            y = ((a - t[0]) / t[1]).to(torch.float32)
        elif kind == "conv2d":
            y = F.conv2d(a, t[0], t[1] if len(t) > 1 else None, ints[0], ints[1])
        elif kind == "add_tensor":
            y = a + t[0]
        elif kind == "add":
            y = a + v[op["inputs"][1]]
        elif kind == "relu":
            y = F.relu(a)
        elif kind == "max_pool2d":
            y = F.max_pool2d(a, ints[0], ints[1], ints[2])
        elif kind == "pad_channels":
            y = F.pad(a, (0, 0, 0, 0, 0, ints[0] - a.shape[1]))
        elif kind == "global_avg_pool":
            y = F.adaptive_avg_pool2d(a, 1).flatten(1)
        elif kind == "linear":
            y = F.linear(a, t[0], t[1])
        elif kind == "resize_bilinear":
            ref = v[op["inputs"][1]]
            y = F.interpolate(a, size=tuple(ref.shape[2:]), mode="bilinear", align_corners=False)
        else:
            raise ValueError(f"unknown op {kind!r} in the architecture file")
        v.append(y)
    return v[graph["output"]]


def max_abs(a, b):
    if a.shape != b.shape:
        raise AssertionError(f"shape {tuple(a.shape)} != C++'s {tuple(b.shape)}")
    return (a.double() - b.double()).abs().max().item()


def main(folder):
    torch.set_num_threads(1)
    failures = []
    for name in ("classifier", "segmentation"):
        io = torch.load(f"{folder}/{name}.io.pt")
        x, expected = io["input"], io["output"]
        with torch.no_grad():
            scripted = torch.jit.load(f"{folder}/{name}.pt")
            scripted.eval()
            d_script = max_abs(scripted(x), expected)
            weights = torch.load(f"{folder}/{name}.pth")
            with open(f"{folder}/{name}.architecture.json") as f:
                arch = json.load(f)
            d_weights = max_abs(run_graph(arch["graph"], weights, x), expected)
        scale = expected.abs().max().item()
        print(f"{name}: input {tuple(x.shape)}, output {tuple(expected.shape)} (scale {scale:.3g}); "
              f"max |torch.jit.load - C++| = {d_script:.3g}, "
              f"max |torch.load weights + F ops - C++| = {d_weights:.3g} (tolerance {TOLERANCE})")
        if scale < 1e-1:
            failures.append(f"{name}: C++'s output is near zero ({scale:.3g}): nothing compared")
        for what, d in (("TorchScript", d_script), ("weights", d_weights)):
            if not d < TOLERANCE:
                failures.append(f"{name} {what}: max abs difference {d:.3g} >= {TOLERANCE}")
    for f in failures:
        print("FAIL:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
