"""The shared MNIST training-step workload: initial parameters by formula and one fixed batch.

Both sides of the MNIST benchmark (torchdiffeq_mnist.py and the `mnist` area of
neuralode-bench) must start from the same weights and the same 128 images, so
that the loss at step 0 and the NFE can be compared. Neither side can replay
the other's random streams, and a file of the 0.21M (ODE-Net) and 0.58M
(ResNet) Float32 parameters would add about 3 MB to the repository. So every
parameter is a pure function of its name and position, cheap to compute in
Python and in Swift:

    seed(name)   = FNV-1a 64-bit hash of the name's UTF-8 bytes
    z            = seed + (i + 1) * 0x9E3779B97F4A7C15   (mod 2**64; i = row-major index)
    z            = splitmix64 finaliser of z             (Steele, Lea and Flood, OOPSLA 2014)
    u            = (z >> 11) * 2**-53                    (a float64 in [0, 1))
    value        = float32((2u - 1) * bound)             (computed in float64, rounded once)

with bound = 1 / sqrt(fan_in), PyTorch's default range for the weight and the
bias of `nn.Conv2d` and `nn.Linear` (fan_in = in_channels * kernel height *
kernel width, or in_features). A bias uses the fan_in of the weight of the same
layer. Group normalisation starts as PyTorch starts it: weight 1, bias 0.

The batch is 128 indices into the training split, drawn once with
numpy.random.default_rng(0).choice(60000, 128, replace=False). Only the indices
are stored: the images are read from the MNIST files at run time, scaled as
byte / 255 (torchvision's ToTensor) without standardisation, as in the
training program (docs/mnist.md).

Run as a script, this writes mnist_workload.json beside it: the indices, the
training settings, and two sums per parameter for each model, which the Swift side
checks its generated parameters against.

    .venv-bench/bin/python Benchmarks/reference/mnist_workload.py
"""

import argparse
import gzip
import json
import os
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUTPUT = os.path.join(HERE, "mnist_workload.json")

BATCH_SIZE = 128
BATCH_SEED = 0
TRAIN_COUNT = 60000
CHANNELS = 64
TOLERANCE = 1e-3
LEARNING_RATE = 0.1
MOMENTUM = 0.9

GOLDEN_GAMMA = 0x9E3779B97F4A7C15
FNV_OFFSET = 0xCBF29CE484222325
FNV_PRIME = 0x100000001B3
MASK64 = (1 << 64) - 1


def batch_indices():
    """Return the 128 training-split indices of the fixed batch, in batch order."""
    rng = np.random.default_rng(BATCH_SEED)
    return [int(index) for index in rng.choice(TRAIN_COUNT, BATCH_SIZE, replace=False)]


def fnv1a64(text):
    """Return the 64-bit FNV-1a hash of the UTF-8 bytes of `text`."""
    value = FNV_OFFSET
    for byte in text.encode("utf-8"):
        value ^= byte
        value = (value * FNV_PRIME) & MASK64
    return value


def uniform_values(name, count):
    """Return `count` float64 values in [0, 1) for the parameter `name`, by the formula above."""
    with np.errstate(over="ignore"):
        index = np.arange(1, count + 1, dtype=np.uint64)
        z = np.uint64(fnv1a64(name)) + index * np.uint64(GOLDEN_GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) * 2.0**-53


def initial_parameters(shapes):
    """Return {name: float32 array} for a model given {name: shape}.

    A rank-1 `weight` (and its `bias`) belongs to a group normalisation; every
    other weight belongs to a convolution or linear layer.
    """
    parameters = {}
    for name, shape in shapes.items():
        prefix, _, kind = name.rpartition(".")
        weight_shape = shapes.get(f"{prefix}.weight" if prefix else "weight")
        if weight_shape is None:
            raise ValueError(f"parameter {name} has no weight beside it; cannot choose its initialisation")
        count = int(np.prod(shape))
        if len(weight_shape) == 1:
            fill = 1.0 if kind == "weight" else 0.0
            parameters[name] = np.full(shape, fill, dtype=np.float32)
            continue
        fan_in = int(np.prod(weight_shape[1:]))
        bound = 1.0 / np.sqrt(np.float64(fan_in))
        values = (2.0 * uniform_values(name, count) - 1.0) * bound
        parameters[name] = values.astype(np.float32).reshape(shape)
    return parameters


def read_idx(path):
    """Return the array in an IDX file (gzip-compressed or not) of unsigned bytes."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as handle:
        data = handle.read()
    zero, dtype, rank = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise ValueError(f"{path} is not an IDX file of unsigned bytes (header {data[:4].hex()})")
    shape = struct.unpack(">" + "I" * rank, data[4 : 4 + 4 * rank])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * rank).reshape(shape)


def find_file(directory, name):
    """Return the path of `name` or `name`.gz in `directory`."""
    for candidate in (name + ".gz", name):
        path = os.path.join(directory, candidate)
        if os.path.exists(path):
            return path
    raise FileNotFoundError(f"neither {name}.gz nor {name} is in {directory}; pass the MNIST folder with --data")


def load_batch(data_directory, indices=None):
    """Return (images float32 [128, 1, 28, 28] scaled to [0, 1], labels int64 [128]) of the fixed batch."""
    indices = batch_indices() if indices is None else indices
    images = read_idx(find_file(data_directory, "train-images-idx3-ubyte"))
    labels = read_idx(find_file(data_directory, "train-labels-idx1-ubyte"))
    batch = images[indices].astype(np.float32) / np.float32(255)
    return batch.reshape(len(indices), 1, 28, 28), labels[indices].astype(np.int64)


def model_shapes(kind, channels=CHANNELS):
    """Return {name: shape} of the parameters of an MNIST model, named as in its nn.Sequential."""
    c = channels
    shapes = {
        "0.weight": [c, 1, 3, 3],
        "0.bias": [c],
        "1.weight": [c],
        "1.bias": [c],
        "3.weight": [c, c, 4, 4],
        "3.bias": [c],
        "4.weight": [c],
        "4.bias": [c],
        "6.weight": [c, c, 4, 4],
        "6.bias": [c],
    }
    if kind == "resnet":
        for block in range(7, 13):
            for norm in ("norm1", "norm2"):
                shapes[f"{block}.{norm}.weight"] = [c]
                shapes[f"{block}.{norm}.bias"] = [c]
            shapes[f"{block}.conv1.weight"] = [c, c, 3, 3]
            shapes[f"{block}.conv2.weight"] = [c, c, 3, 3]
        head = 13
    else:
        for norm in ("norm1", "norm2", "norm3"):
            shapes[f"7.odefunc.{norm}.weight"] = [c]
            shapes[f"7.odefunc.{norm}.bias"] = [c]
        for conv in ("conv1", "conv2"):
            shapes[f"7.odefunc.{conv}._layer.weight"] = [c, c + 1, 3, 3]
            shapes[f"7.odefunc.{conv}._layer.bias"] = [c]
        head = 8
    shapes[f"{head}.weight"] = [c]
    shapes[f"{head}.bias"] = [c]
    shapes[f"{head + 4}.weight"] = [10, c]
    shapes[f"{head + 4}.bias"] = [10]
    return shapes


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=DEFAULT_OUTPUT, help=f"JSON file to write (default {DEFAULT_OUTPUT})")
    args = parser.parse_args()
    workload = {
        "description": "MNIST training-step workload; see mnist_workload.py for the parameter formula",
        "batch_seed": BATCH_SEED,
        "batch_indices": batch_indices(),
        "channels": CHANNELS,
        "tolerance": TOLERANCE,
        "learning_rate": LEARNING_RATE,
        "momentum": MOMENTUM,
        "parameter_sums": {},
    }
    for kind in ("resnet", "odenet"):
        parameters = initial_parameters(model_shapes(kind))
        # [sum of the values, sum of value * (i + 1)] in float64, for the Swift side to check its
        # formula and the row-major layout.
        sums = {}
        for name, values in parameters.items():
            flat = values.astype(np.float64).reshape(-1)
            weights = np.arange(1, flat.size + 1, dtype=np.float64)
            sums[name] = [float(np.sum(flat)), float(np.sum(flat * weights))]
        workload["parameter_sums"][kind] = sums
    with open(args.output, "w") as handle:
        json.dump(workload, handle, indent=1)
        handle.write("\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
