"""Workload definitions shared by the torchdiffeq and diffrax benchmarks.

All initial weights, initial states and training data come from PyTorch's
seeded generators, so both Python libraries start from bit-identical Float32
inputs. Run this file as a script to write those inputs to a JSON file that
the Swift benchmarks can load:

    .venv-bench/bin/python Benchmarks/reference/workloads.py --output Benchmarks/reference/workloads.json
"""

import argparse
import json

import numpy as np
import torch
from torch import nn

# Workload (i): solve dy/dt = mlp(y), with mlp a 2-64-64-2 tanh network.
DYNAMICS_WEIGHT_SEED = 0
DYNAMICS_STATE_SEED = 1
DYNAMICS_BATCH_SIZES = (1, 64, 4096)
DYNAMICS_T0 = 0.0
DYNAMICS_T1 = 10.0
DYNAMICS_RTOL = 1e-6
DYNAMICS_ATOL = 1e-8

# Workload (ii): one training iteration of the spiral demo that ships with torchdiffeq.
SPIRAL_A = [[-0.1, 2.0], [-2.0, -0.1]]
SPIRAL_Y0 = [[2.0, 0.0]]
SPIRAL_DATA_SIZE = 1000
SPIRAL_T_END = 25.0
SPIRAL_BATCH_SIZE = 20
SPIRAL_BATCH_TIME = 10
SPIRAL_BATCH_SEED = 2
SPIRAL_MODEL_SEED = 0
SPIRAL_HIDDEN = 50
SPIRAL_INIT_STD = 0.1
SPIRAL_LEARNING_RATE = 1e-3
# torchdiffeq's default tolerances for odeint and odeint_adjoint (version 0.2.5).
SPIRAL_RTOL = 1e-7
SPIRAL_ATOL = 1e-9


def make_dynamics_mlp():
    """Build the 2-64-64-2 tanh MLP with PyTorch's default init under manual_seed(0)."""
    torch.manual_seed(DYNAMICS_WEIGHT_SEED)
    return nn.Sequential(
        nn.Linear(2, 64),
        nn.Tanh(),
        nn.Linear(64, 64),
        nn.Tanh(),
        nn.Linear(64, 2),
    )


def dynamics_initial_state(batch_size):
    """Return y0 = randn(batch_size, 2) drawn right after torch.manual_seed(1)."""
    torch.manual_seed(DYNAMICS_STATE_SEED)
    return torch.randn(batch_size, 2)


class SpiralTrueDynamics(nn.Module):
    """Right-hand side dy/dt = (y ** 3) @ A of the spiral that generates the training data."""

    def __init__(self):
        super().__init__()
        self.register_buffer("matrix", torch.tensor(SPIRAL_A))

    def forward(self, t, y):
        return torch.mm(y**3, self.matrix)


def spiral_times():
    """Return the 1000 evenly spaced observation times on [0, 25] as a Float32 tensor."""
    return torch.linspace(0.0, SPIRAL_T_END, SPIRAL_DATA_SIZE)


def spiral_true_trajectory():
    """Solve the true spiral with torchdiffeq dopri5 at its default tolerances.

    Returns a Float32 tensor of shape [1000, 2], the state at each of spiral_times().
    """
    import torchdiffeq

    with torch.no_grad():
        trajectory = torchdiffeq.odeint(
            SpiralTrueDynamics(),
            torch.tensor(SPIRAL_Y0),
            spiral_times(),
            method="dopri5",
        )
    return trajectory[:, 0, :].contiguous()


def spiral_batch_starts():
    """Return the 20 window start indices, drawn without replacement from 0..989 by a seeded numpy Generator."""
    generator = np.random.default_rng(SPIRAL_BATCH_SEED)
    return generator.choice(SPIRAL_DATA_SIZE - SPIRAL_BATCH_TIME, SPIRAL_BATCH_SIZE, replace=False)


def spiral_batch():
    """Return (batch_y0 [20, 2], batch_t [10], batch_y [10, 20, 2]) as Float32 tensors.

    Window j starts at observation index starts[j]. batch_t is the first 10
    observation times, so every window is integrated from t = 0.
    """
    trajectory = spiral_true_trajectory()
    times = spiral_times()
    starts = torch.from_numpy(spiral_batch_starts())
    batch_y0 = trajectory[starts]
    batch_t = times[:SPIRAL_BATCH_TIME]
    batch_y = torch.stack([trajectory[starts + offset] for offset in range(SPIRAL_BATCH_TIME)], dim=0)
    return batch_y0, batch_t, batch_y


def make_spiral_net():
    """Build Linear(2, 50), tanh, Linear(50, 2) with N(0, 0.1) weights and zero biases under manual_seed(0)."""
    torch.manual_seed(SPIRAL_MODEL_SEED)
    net = nn.Sequential(
        nn.Linear(2, SPIRAL_HIDDEN),
        nn.Tanh(),
        nn.Linear(SPIRAL_HIDDEN, 2),
    )
    for module in net.modules():
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=SPIRAL_INIT_STD)
            nn.init.constant_(module.bias, val=0.0)
    return net


def linear_parameters(net):
    """Return [(weight [out, in], bias [out]), ...] as numpy Float32 arrays for each nn.Linear in `net`."""
    layers = []
    for module in net.modules():
        if isinstance(module, nn.Linear):
            layers.append(
                (
                    module.weight.detach().numpy().astype(np.float32).copy(),
                    module.bias.detach().numpy().astype(np.float32).copy(),
                )
            )
    return layers


def _shortest_float32(value):
    # str() of a numpy float32 is the shortest decimal that parses back to the
    # same float32, so the JSON stays small and still loads bit-exactly.
    return float(str(np.float32(value)))


def _array_json(array):
    array = np.asarray(array)
    if array.dtype.kind in "iu":
        data = [int(value) for value in array.reshape(-1)]
    else:
        data = [_shortest_float32(value) for value in array.reshape(-1)]
    return {"shape": list(array.shape), "data": data}


def _layers_json(layers):
    return [{"weight": _array_json(weight), "bias": _array_json(bias)} for weight, bias in layers]


def export_json():
    """Build the JSON document with every input of both workloads."""
    batch_y0, batch_t, batch_y = spiral_batch()
    return {
        "format": (
            "Arrays are {shape, data} with data in row-major order. "
            "Layers follow torch.nn.Linear: weight is [out, in] and output = input @ weight^T + bias."
        ),
        "torch_version": torch.__version__,
        "mlp_dynamics": {
            "layers": _layers_json(linear_parameters(make_dynamics_mlp())),
            "activation": "tanh after every layer but the last",
            "t0": DYNAMICS_T0,
            "t1": DYNAMICS_T1,
            "rtol": DYNAMICS_RTOL,
            "atol": DYNAMICS_ATOL,
            "y0": {str(size): _array_json(dynamics_initial_state(size).numpy()) for size in DYNAMICS_BATCH_SIZES},
        },
        "spiral": {
            "A": SPIRAL_A,
            "true_y0": SPIRAL_Y0,
            "t": _array_json(spiral_times().numpy()),
            "true_y": _array_json(spiral_true_trajectory().numpy()),
            "batch_starts": _array_json(spiral_batch_starts()),
            "batch_y0": _array_json(batch_y0.numpy()),
            "batch_t": _array_json(batch_t.numpy()),
            "batch_y": _array_json(batch_y.numpy()),
            "initial_layers": _layers_json(linear_parameters(make_spiral_net())),
            "rtol": SPIRAL_RTOL,
            "atol": SPIRAL_ATOL,
            "learning_rate": SPIRAL_LEARNING_RATE,
        },
    }


def main():
    parser = argparse.ArgumentParser(description="Write the benchmark workload inputs as JSON.")
    parser.add_argument("--output", required=True, help="path of the JSON file to write")
    args = parser.parse_args()
    torch.set_num_threads(2)
    with open(args.output, "w") as handle:
        json.dump(export_json(), handle, separators=(",", ":"))
        handle.write("\n")


if __name__ == "__main__":
    main()
