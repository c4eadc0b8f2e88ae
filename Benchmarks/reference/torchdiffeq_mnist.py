"""Time one MNIST training step of a ResNet, an ODE-Net and an RK-Net in PyTorch with torchdiffeq.

The models are those of docs/mnist.md (torchdiffeq's MNIST example
configuration): downsampling to 64 channels at 6x6, then six residual blocks
or one ODE block on t in [0, 1], then GroupNorm, ReLU, pooling and
Linear(64, 10). The ODE block's dynamics are GroupNorm, ReLU, a 3x3
convolution over [t; h], GroupNorm, ReLU, another such convolution, GroupNorm.
It is solved with dopri5 at rtol = atol = 1e-3.

One step is: forward, mean cross-entropy, backward, one SGD update (lr 0.1,
momentum 0.9). All models start from the parameters of mnist_workload.py and
train on its fixed batch of 128 images, which are read from --data. Training
continues across steps, so step k starts from the same weights in both
libraries up to rounding. Each timed sample is one step, after --warmup steps.

Records (JSON lines, see README.md):
  mnist_train_resnet             backpropagation through six residual blocks
  mnist_train_rknet              odeint, backpropagation through the dopri5 steps
  mnist_train_odenet_seminorm    odeint_adjoint, adjoint error norm over z and a only
  mnist_train_odenet_fullnorm    odeint_adjoint with torchdiffeq's default adjoint norm

    .venv-bench/bin/python Benchmarks/reference/torchdiffeq_mnist.py --data /data/mnist
"""

import argparse
import importlib.metadata
import os
import time

import torch
import torchdiffeq
from torch import nn

import bench_common
import mnist_workload

MODELS = ["resnet", "rknet", "odenet_seminorm", "odenet_fullnorm"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="folder with the MNIST training files (IDX, gzip or not)")
    parser.add_argument("--threads", type=int, default=bench_common.THREADS, help="torch threads (default 2)")
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per model (default 10, 3 with --quick)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 2, 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="fewer steps, for a smoke run")
    parser.add_argument("--filter", default="", help="run only the records whose name contains this substring")
    args = parser.parse_args()
    for option in ("threads", "repeats"):
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option} must be at least 1, got {value}")
    if args.warmup is not None and args.warmup < 1:
        parser.error(f"--warmup must be at least 1 (step 0 is always untimed), got {args.warmup}")
    return args


def group_norm(channels):
    return nn.GroupNorm(min(32, channels), channels)


class TimeConcatConv(nn.Module):
    """A 3x3 convolution of the input with a constant channel equal to t placed first."""

    def __init__(self, channels):
        super().__init__()
        self._layer = nn.Conv2d(channels + 1, channels, kernel_size=3, stride=1, padding=1)

    def forward(self, t, x):
        time_channel = torch.ones_like(x[:, :1]) * t
        return self._layer(torch.cat([time_channel, x], dim=1))


class Dynamics(nn.Module):
    """f(t, h) of the ODE block; counts its calls in `nfe`."""

    def __init__(self, channels):
        super().__init__()
        self.norm1 = group_norm(channels)
        self.conv1 = TimeConcatConv(channels)
        self.norm2 = group_norm(channels)
        self.conv2 = TimeConcatConv(channels)
        self.norm3 = group_norm(channels)
        self.nfe = 0

    def forward(self, t, h):
        self.nfe += 1
        out = self.conv1(t, torch.relu(self.norm1(h)))
        out = self.conv2(t, torch.relu(self.norm2(out)))
        return self.norm3(out)


class ODEBlock(nn.Module):
    """Solves dh/dt = f(t, h) on [0, 1] and returns h(1)."""

    def __init__(self, channels, adjoint, adjoint_norm):
        super().__init__()
        self.odefunc = Dynamics(channels)
        self.adjoint = adjoint
        self.adjoint_norm = adjoint_norm
        self.register_buffer("times", torch.tensor([0.0, 1.0]), persistent=False)

    def forward(self, x):
        tol = mnist_workload.TOLERANCE
        if self.adjoint:
            options = {} if self.adjoint_norm is None else {"adjoint_options": {"norm": self.adjoint_norm}}
            trajectory = torchdiffeq.odeint_adjoint(
                self.odefunc, x, self.times, rtol=tol, atol=tol, method="dopri5", **options
            )
        else:
            trajectory = torchdiffeq.odeint(self.odefunc, x, self.times, rtol=tol, atol=tol, method="dopri5")
        return trajectory[1]


class ResidualBlock(nn.Module):
    """x + conv2(relu(norm2(conv1(relu(norm1(x)))))), 3x3 convolutions without bias."""

    def __init__(self, channels):
        super().__init__()
        self.norm1 = group_norm(channels)
        self.conv1 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.norm2 = group_norm(channels)
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, padding=1, bias=False)

    def forward(self, x):
        out = self.conv1(torch.relu(self.norm1(x)))
        return x + self.conv2(torch.relu(self.norm2(out)))


def build_model(name, channels=mnist_workload.CHANNELS):
    """Return the nn.Sequential of one model, with the workload's initial parameters loaded."""
    c = channels
    layers = [
        nn.Conv2d(1, c, kernel_size=3),
        group_norm(c),
        nn.ReLU(inplace=True),
        nn.Conv2d(c, c, kernel_size=4, stride=2, padding=1),
        group_norm(c),
        nn.ReLU(inplace=True),
        nn.Conv2d(c, c, kernel_size=4, stride=2, padding=1),
    ]
    if name == "resnet":
        layers += [ResidualBlock(c) for _ in range(6)]
    else:
        adjoint = name.startswith("odenet")
        adjoint_norm = "seminorm" if name == "odenet_seminorm" else None
        layers.append(ODEBlock(c, adjoint=adjoint, adjoint_norm=adjoint_norm))
    layers += [group_norm(c), nn.ReLU(inplace=True), nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(c, 10)]
    model = nn.Sequential(*layers)

    kind = "resnet" if name == "resnet" else "odenet"
    expected = mnist_workload.model_shapes(kind, channels)
    actual = {key: list(value.shape) for key, value in model.state_dict().items()}
    if actual != expected:
        raise RuntimeError(f"the {name} model's parameters differ from mnist_workload.model_shapes: {actual}")
    initial = mnist_workload.initial_parameters(expected)
    model.load_state_dict({key: torch.from_numpy(value) for key, value in initial.items()})
    return model


def dynamics_of(model):
    for module in model.modules():
        if isinstance(module, Dynamics):
            return module
    return None


def bench_model(name, args, images, labels):
    model = build_model(name)
    dynamics = dynamics_of(model)
    optimizer = torch.optim.SGD(model.parameters(), lr=mnist_workload.LEARNING_RATE, momentum=mnist_workload.MOMENTUM)
    loss_function = nn.CrossEntropyLoss()

    def step():
        """Run one training step; return (loss, forward NFE, backward NFE)."""
        if dynamics is not None:
            dynamics.nfe = 0
        optimizer.zero_grad(set_to_none=True)
        loss = loss_function(model(images), labels)
        forward = dynamics.nfe if dynamics is not None else 0
        loss.backward()
        backward = dynamics.nfe - forward if dynamics is not None else 0
        optimizer.step()
        return loss.item(), forward, backward

    warmup = args.warmup
    if warmup is None:
        warmup = 1 if args.quick else 2
    repeats = args.repeats
    if repeats is None:
        repeats = 3 if args.quick else 10
    samples, cpu_samples, forward_counts, backward_counts, losses = [], [], [], [], []
    first = None
    for index in range(warmup + repeats):
        cpu_start = time.process_time()
        elapsed, result = bench_common.time_call(step)
        cpu_elapsed = time.process_time() - cpu_start
        losses.append(result[0])
        if index == 0:
            first = result
        if index >= warmup:
            samples.append(elapsed)
            cpu_samples.append(cpu_elapsed)
            forward_counts.append(result[1])
            backward_counts.append(result[2])
        bench_common.log(f"{name} step {index}: {elapsed * 1e3:.0f} ms, loss {result[0]:.5f}, nfe {result[1]}/{result[2]}")

    record = {"name": f"mnist_train_{name}", "size": images.shape[0]}
    record.update(bench_common.summarize_seconds(samples))
    record["min_ms"] = min(samples) * 1e3
    # CPU time of the whole process (every thread): close to the unloaded work of a step on a
    # loaded machine, where the wall time also counts the time spent waiting for a core.
    record["process_cpu_median_ms"] = bench_common.percentile(cpu_samples, 0.5) * 1e3
    record["library"] = "torchdiffeq"
    record["library_version"] = importlib.metadata.version("torchdiffeq")
    record["torch_version"] = torch.__version__
    record["method"] = {
        "resnet": "six residual blocks, autograd",
        "rknet": "odeint dopri5, backpropagation through the solver",
        "odenet_seminorm": "odeint_adjoint dopri5, adjoint_options norm=seminorm",
        "odenet_fullnorm": "odeint_adjoint dopri5, default adjoint norm (max of per-tensor RMS norms)",
    }[name]
    record["warmup"] = warmup
    record["parameters"] = sum(parameter.numel() for parameter in model.parameters())
    record["nfe_forward"] = bench_common.median(forward_counts)
    record["nfe_backward"] = bench_common.median(backward_counts)
    record["nfe_forward_range"] = f"{min(forward_counts)}-{max(forward_counts)}"
    record["nfe_backward_range"] = f"{min(backward_counts)}-{max(backward_counts)}"
    record["loss_step0"] = first[0]
    record["nfe_forward_step0"] = first[1]
    record["nfe_backward_step0"] = first[2]
    record["loss_last"] = losses[-1]
    record["rtol"] = mnist_workload.TOLERANCE
    record["atol"] = mnist_workload.TOLERANCE
    record.update(bench_common.machine_fields())
    record["threads"] = args.threads
    record["omp_wait_policy"] = os.environ.get("OMP_WAIT_POLICY", "")
    bench_common.emit(record)


def main():
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    images, labels = mnist_workload.load_batch(args.data)
    images = torch.from_numpy(images)
    labels = torch.from_numpy(labels)
    for name in MODELS:
        if args.filter in f"mnist_train_{name}":
            bench_model(name, args, images, labels)


if __name__ == "__main__":
    main()
