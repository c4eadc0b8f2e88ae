"""The latent-ODE training workload shared by torchdiffeq_latent.py, diffrax_latent.py and neuralode-bench.

The configuration is that of torchdiffeq's examples/latent_ode.py (commit 530b8b6 of
rtqichen/torchdiffeq). There are 1000 two-dimensional spirals, observed at the same 100 times
and trained on in one batch. The latent state has 4 dimensions. The dynamics are 4-20-20-4 with
ELU after both hidden layers. The recognition RNN has 25 tanh units and reads the observations
from the last to the first. The decoder is 4-20-2 with ReLU. The likelihood is Gaussian with
standard deviation 0.3, the optimizer Adam with learning rate 0.01, and the solver odeint's
default, dopri5 with rtol 1e-7 and atol 1e-9.

Two choices differ from that script so that the three libraries compute the same numbers.
The reparameterisation noise epsilon is one stored [1000, 4] array used at every iteration,
where the script draws a new one each time. The data come from numpy's seeded generator.

Run as a script, it writes two files: latent_workload.json (the configuration and the layout
of the arrays) and latent_workload.bin (every array as little-endian Float32, back to back):

    .venv-bench/bin/python Benchmarks/reference/latent_workload.py
"""

import argparse
import hashlib
import json
import os

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
JSON_PATH = os.path.join(HERE, "latent_workload.json")
BINARY_NAME = "latent_workload.bin"

SPIRAL_COUNT = 1000
TIME_COUNT = 100
GRID_SIZE = 1000
OBSERVATION_DIMENSION = 2
LATENT_DIMENSION = 4
DYNAMICS_HIDDEN = 20
ENCODER_HIDDEN = 25
DECODER_HIDDEN = 20
NOISE_STD = 0.3
LEARNING_RATE = 0.01
# torchdiffeq 0.2.5's defaults for odeint and odeint_adjoint, which the example keeps.
RTOL = 1e-7
ATOL = 1e-9
DATA_SEED = 0
MODEL_SEED = 0
EPSILON_SEED = 1


def generate_observations():
    """Return the noisy spirals [TIME_COUNT, SPIRAL_COUNT, 2] and their times [TIME_COUNT], Float32.

    The grid has GRID_SIZE angles on [0, 6 pi]. The counter-clockwise spiral has radius 0.3 theta
    around (5, 0). The clockwise one has angle 6 pi + 1 - theta and radius 0.3 * 50 / angle
    around (-5, 0). Each spiral starts at a grid index drawn uniformly from [100, 900), turns either way
    with probability 1/2, and gets Gaussian noise of standard deviation 0.3.
    """
    stop = 6 * np.pi
    grid = np.linspace(0.0, stop, num=GRID_SIZE)
    clockwise_angle = stop + 1.0 - grid
    clockwise_radius = 0.3 * 50.0 / clockwise_angle
    clockwise = np.stack(
        (clockwise_radius * np.cos(clockwise_angle) - 5.0, clockwise_radius * np.sin(clockwise_angle)), axis=1
    )
    counter_radius = 0.3 * grid
    counter_clockwise = np.stack((counter_radius * np.cos(grid) + 5.0, counter_radius * np.sin(grid)), axis=1)

    random = np.random.RandomState(DATA_SEED)
    series = []
    for _ in range(SPIRAL_COUNT):
        start = random.randint(TIME_COUNT, GRID_SIZE - TIME_COUNT)
        path = counter_clockwise if random.rand() > 0.5 else clockwise
        window = path[start : start + TIME_COUNT] + random.randn(TIME_COUNT, OBSERVATION_DIMENSION) * NOISE_STD
        series.append(window)
    observations = np.stack(series, axis=1).astype(np.float32)
    return observations, grid[:TIME_COUNT].astype(np.float32)


def make_networks():
    """Build the three networks with PyTorch's default initialisation after manual_seed(MODEL_SEED).

    Returns a dict of name to list of nn.Linear: dynamics (fc1, fc2, fc3), encoder (i2h on the
    concatenation [x, h], h2o) and decoder (fc1, fc2), created in that order.
    """
    torch.manual_seed(MODEL_SEED)
    return {
        "dynamics": [
            nn.Linear(LATENT_DIMENSION, DYNAMICS_HIDDEN),
            nn.Linear(DYNAMICS_HIDDEN, DYNAMICS_HIDDEN),
            nn.Linear(DYNAMICS_HIDDEN, LATENT_DIMENSION),
        ],
        "encoder": [
            nn.Linear(OBSERVATION_DIMENSION + ENCODER_HIDDEN, ENCODER_HIDDEN),
            nn.Linear(ENCODER_HIDDEN, 2 * LATENT_DIMENSION),
        ],
        "decoder": [
            nn.Linear(LATENT_DIMENSION, DECODER_HIDDEN),
            nn.Linear(DECODER_HIDDEN, OBSERVATION_DIMENSION),
        ],
    }


def generate_epsilon():
    """Return the reparameterisation noise [SPIRAL_COUNT, LATENT_DIMENSION], standard normal, Float32."""
    generator = torch.Generator().manual_seed(EPSILON_SEED)
    return torch.randn(SPIRAL_COUNT, LATENT_DIMENSION, generator=generator).numpy()


def named_arrays():
    """Return the workload's arrays as (name, Float32 array) pairs, in file order."""
    observations, times = generate_observations()
    arrays = [("times", times), ("observations", observations), ("epsilon", generate_epsilon())]
    with torch.no_grad():
        for network, layers in make_networks().items():
            for index, layer in enumerate(layers):
                arrays.append((f"{network}.{index}.weight", layer.weight.numpy().copy()))
                arrays.append((f"{network}.{index}.bias", layer.bias.numpy().copy()))
    return arrays


def write_files(json_path):
    arrays = named_arrays()
    binary_path = os.path.join(os.path.dirname(json_path), BINARY_NAME)
    layout = []
    offset = 0
    with open(binary_path, "wb") as output:
        for name, array in arrays:
            data = np.ascontiguousarray(array, dtype="<f4").tobytes()
            output.write(data)
            layout.append({"name": name, "shape": list(array.shape), "offset": offset})
            offset += len(data)
    with open(binary_path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    description = {
        "description": "latent ODE training workload after torchdiffeq's examples/latent_ode.py; "
        "arrays are little-endian Float32 in the binary file, observations are [time, spiral, channel]",
        "spiral_count": SPIRAL_COUNT,
        "time_count": TIME_COUNT,
        "observation_dimension": OBSERVATION_DIMENSION,
        "latent_dimension": LATENT_DIMENSION,
        "dynamics_hidden": DYNAMICS_HIDDEN,
        "encoder_hidden": ENCODER_HIDDEN,
        "decoder_hidden": DECODER_HIDDEN,
        "noise_std": NOISE_STD,
        "learning_rate": LEARNING_RATE,
        "rtol": RTOL,
        "atol": ATOL,
        "seeds": {"data": DATA_SEED, "model": MODEL_SEED, "epsilon": EPSILON_SEED},
        "binary": {"file": BINARY_NAME, "bytes": offset, "sha256": digest, "arrays": layout},
    }
    with open(json_path, "w") as output:
        json.dump(description, output, indent=1)
        output.write("\n")
    print(f"wrote {json_path} and {binary_path} ({offset} bytes)")


def load(json_path=JSON_PATH):
    """Read the stored workload and return (description dict, {name: Float32 numpy array}).

    Raises ValueError when the binary file's size or checksum differs from the description.
    """
    with open(json_path) as handle:
        description = json.load(handle)
    binary = description["binary"]
    binary_path = os.path.join(os.path.dirname(os.path.abspath(json_path)), binary["file"])
    with open(binary_path, "rb") as handle:
        data = handle.read()
    if len(data) != binary["bytes"] or hashlib.sha256(data).hexdigest() != binary["sha256"]:
        raise ValueError(f"{binary_path} does not match {json_path}; rerun latent_workload.py to write both")
    arrays = {}
    for entry in binary["arrays"]:
        count = int(np.prod(entry["shape"]))
        array = np.frombuffer(data, dtype="<f4", count=count, offset=entry["offset"])
        arrays[entry["name"]] = array.reshape(entry["shape"]).astype(np.float32)
    return description, arrays


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=JSON_PATH, help="path of the JSON file; the binary file goes beside it")
    args = parser.parse_args()
    write_files(args.output)


if __name__ == "__main__":
    main()
