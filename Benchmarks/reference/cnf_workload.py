"""Inputs of the continuous-normalizing-flow benchmark shared by torchdiffeq, diffrax and Swift.

The workload is one maximum-likelihood training iteration of a planar CNF on
two circles, in the configuration of torchdiffeq's CNF example
(examples/cnf.py in torchdiffeq 0.2.5): width 64, hypernetwork hidden size 32,
batch 512, t from 10 back to 0, base N(0, 0.1 I), dopri5 with
rtol = atol = 1e-5, the adjoint method and Adam at learning rate 1e-3.

The hypernetwork is three torch.nn.Linear layers, 1 -> 32 -> 32 -> 3 * 64 * 2 + 64,
with tanh after the first two. Its output is split, in this order, into
W [64, 2], U [64, 2], the gate G [64, 2] and B [64], and the dynamics are

    f(z, t) = mean over the 64 units n of (U_n * sigmoid(G_n)) tanh(W_n . z + B_n)

which is PlanarCNFField in Sources/NeuralODE/CNF/CNFVectorField.swift.

Run as a script, this file writes the initial layers and a fixed sequence of
batches to JSON, so that all three libraries start from bit-identical Float32
weights and data:

    .venv-bench/bin/python Benchmarks/reference/cnf_workload.py --output Benchmarks/reference/cnf_workload.json
"""

import argparse
import json

import numpy as np
import torch
from torch import nn

DIMENSION = 2
WIDTH = 64
HIDDEN = 32
BATCH_SIZE = 512
BATCH_COUNT = 4
# The flow carries the base N(0, BASE_VARIANCE I) at T0 to the data at T1.
T0 = 0.0
T1 = 10.0
BASE_VARIANCE = 0.1
RTOL = 1e-5
ATOL = 1e-5
LEARNING_RATE = 1e-3
# Two circles: half the points on the unit circle, half on the circle of
# radius CIRCLE_FACTOR, plus N(0, CIRCLE_NOISE^2) noise per coordinate (the
# parameters that torchdiffeq's example passes to scikit-learn's make_circles).
CIRCLE_FACTOR = 0.5
CIRCLE_NOISE = 0.06
MODEL_SEED = 0
DATA_SEED = 1


def make_hypernetwork():
    """Return the three Linear layers with PyTorch's default initialisation under manual_seed(0)."""
    torch.manual_seed(MODEL_SEED)
    return [
        nn.Linear(1, HIDDEN),
        nn.Linear(HIDDEN, HIDDEN),
        nn.Linear(HIDDEN, 3 * WIDTH * DIMENSION + WIDTH),
    ]


def split_hypernetwork_output(values):
    """Split the flat hypernetwork output into W [M, d], U [M, d], the gate [M, d] and B [M].

    `values` is a torch tensor or a jax array of 3 * WIDTH * DIMENSION + WIDTH
    entries. The caller gates U by the sigmoid of the gate.
    """
    block = WIDTH * DIMENSION
    shape = (WIDTH, DIMENSION)
    w = values[:block].reshape(shape)
    u = values[block : 2 * block].reshape(shape)
    gate = values[2 * block : 3 * block].reshape(shape)
    b = values[3 * block :]
    return w, u, gate, b


def two_circles(count, generator):
    """Return `count` Float32 points [count, 2] on two circles, drawn from a numpy Generator.

    The angles are uniform in [0, 2 pi), the first count // 2 points lie on
    the outer circle and the rest on the inner one.
    """
    outer = count // 2
    radius = np.where(np.arange(count) < outer, 1.0, CIRCLE_FACTOR)
    angle = generator.uniform(0.0, 2.0 * np.pi, size=count)
    points = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    points += generator.normal(0.0, CIRCLE_NOISE, size=points.shape)
    return points.astype(np.float32)


def batches():
    """Return the BATCH_COUNT training batches, each [BATCH_SIZE, 2] Float32."""
    generator = np.random.default_rng(DATA_SEED)
    return [two_circles(BATCH_SIZE, generator) for _ in range(BATCH_COUNT)]


def layer_arrays():
    """Return [(weight [out, in], bias [out]), ...] of the hypernetwork as Float32 numpy arrays."""
    return [
        (layer.weight.detach().numpy().astype(np.float32).copy(), layer.bias.detach().numpy().astype(np.float32).copy())
        for layer in make_hypernetwork()
    ]


def load(path):
    """Read the JSON written by this script and return (layers, batches) as Float32 numpy arrays."""
    with open(path) as handle:
        document = json.load(handle)

    def array(entry):
        return np.asarray(entry["data"], dtype=np.float32).reshape(entry["shape"])

    layers = [(array(layer["weight"]), array(layer["bias"])) for layer in document["layers"]]
    return layers, [array(batch) for batch in document["batches"]]


def _array_json(array):
    # str() of a numpy float32 is the shortest decimal that parses back to the
    # same float32, so the file stays small and still loads bit-exactly.
    array = np.asarray(array, dtype=np.float32)
    return {"shape": list(array.shape), "data": [float(str(value)) for value in array.reshape(-1)]}


def export_json():
    return {
        "format": (
            "Arrays are {shape, data} with data in row-major order. Layers follow torch.nn.Linear: "
            "weight is [out, in] and output = input @ weight^T + bias."
        ),
        "torch_version": torch.__version__,
        "dimension": DIMENSION,
        "width": WIDTH,
        "hidden": HIDDEN,
        "t0": T0,
        "t1": T1,
        "base_variance": BASE_VARIANCE,
        "rtol": RTOL,
        "atol": ATOL,
        "learning_rate": LEARNING_RATE,
        "layers": [{"weight": _array_json(weight), "bias": _array_json(bias)} for weight, bias in layer_arrays()],
        "batches": [_array_json(batch) for batch in batches()],
    }


def main():
    parser = argparse.ArgumentParser(description="Write the CNF benchmark inputs as JSON.")
    parser.add_argument("--output", required=True, help="path of the JSON file to write")
    args = parser.parse_args()
    with open(args.output, "w") as handle:
        json.dump(export_json(), handle, separators=(",", ":"))
        handle.write("\n")


if __name__ == "__main__":
    main()
