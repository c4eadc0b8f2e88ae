"""Time one maximum-likelihood training iteration of a planar CNF on two circles with torchdiffeq.

The iteration solves (z, delta log p) from t = 10 back to 0 with
odeint_adjoint (dopri5, rtol = atol = 1e-5), takes the loss
-mean(log N(z(0); 0, 0.1 I) - delta(0)), runs the backward adjoint solve and
makes one Adam step. The trace of df/dz is exact: one vector-Jacobian product
per coordinate. cnf_workload.py describes the model and writes the shared
inputs that this script reads.

The two rows differ only in the error norm of the step-size control.
cnf_train_adjoint uses the RMS norm over all components of (z, delta), as
this package and diffrax do. cnf_train_adjoint_mixed_norm uses torchdiffeq's
default for a tuple state, the larger of the RMS norms of z and of delta.
"""

import math
import os

import torch
import torchdiffeq
from torch import nn

import bench_common
import cnf_workload
from torchdiffeq_bench import base_record

VARIANTS = [
    ("cnf_train_adjoint", "rms", "odeint_adjoint dopri5, RMS norm over (z, delta), exact trace by autograd, Adam"),
    (
        "cnf_train_adjoint_mixed_norm",
        "mixed",
        "odeint_adjoint dopri5, torchdiffeq's default mixed norm, exact trace by autograd, Adam",
    ),
]


class PlanarCNF(nn.Module):
    """The planar CNF dynamics of cnf_workload.py, which counts its calls in `nfe`."""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList()
        for weight, bias in layers:
            linear = nn.Linear(weight.shape[1], weight.shape[0])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(weight))
                linear.bias.copy_(torch.from_numpy(bias))
            self.layers.append(linear)
        self.nfe = 0

    def unit_parameters(self, t):
        """Return W [M, d], the gated U [M, d] and B [M] at time t."""
        hidden = t.reshape(1, 1).to(torch.float32)
        for index, layer in enumerate(self.layers):
            hidden = layer(hidden)
            if index < len(self.layers) - 1:
                hidden = torch.tanh(hidden)
        w, u, gate, b = cnf_workload.split_hypernetwork_output(hidden.reshape(-1))
        return w, u * torch.sigmoid(gate), b

    def forward(self, t, state):
        self.nfe += 1
        z, _ = state
        with torch.enable_grad():
            # The trace needs df/dz even where the caller does not record (the
            # forward solve of the adjoint method).
            if not z.requires_grad:
                z = z.requires_grad_(True)
            w, u, b = self.unit_parameters(t)
            velocity = torch.tanh(z @ w.T + b) @ u / cnf_workload.WIDTH
            trace = torch.zeros(z.shape[0], device=z.device)
            for index in range(cnf_workload.DIMENSION):
                row_gradient = torch.autograd.grad(velocity[:, index].sum(), z, create_graph=True)[0]
                trace = trace + row_gradient[:, index]
        return velocity, -trace.reshape(-1, 1)


def base_log_density(z):
    """Return log N(z; 0, BASE_VARIANCE I) per row of z [batch, d]."""
    variance = cnf_workload.BASE_VARIANCE
    dimension = z.shape[1]
    return -0.5 * dimension * math.log(2 * math.pi * variance) - (z**2).sum(dim=1) / (2 * variance)


def rms_norm(parts):
    """Return the RMS over every component of a tuple of tensors, the norm of diffrax and this package."""
    squares = sum(torch.sum(part**2) for part in parts)
    count = sum(part.numel() for part in parts)
    return torch.sqrt(squares / count)


def run_variant(args, name, norm, method, layers, batches):
    repeats = bench_common.repeats_for(args, default=20, quick=5)
    warmup = 2 if args.quick else 5
    field = PlanarCNF(layers)
    optimizer = torch.optim.Adam(field.parameters(), lr=cnf_workload.LEARNING_RATE)
    times = torch.tensor([cnf_workload.T1, cnf_workload.T0])
    # Without a norm option, torchdiffeq uses its mixed norm for a tuple state.
    options = {"norm": rms_norm} if norm == "rms" else None

    def train_step(batch):
        optimizer.zero_grad()
        field.nfe = 0
        change = torch.zeros(batch.shape[0], 1)
        z, delta = torchdiffeq.odeint_adjoint(
            field,
            (batch, change),
            times,
            method="dopri5",
            rtol=cnf_workload.RTOL,
            atol=cnf_workload.ATOL,
            options=options,
        )
        forward_nfe = field.nfe
        log_density = base_log_density(z[-1]) - delta[-1].reshape(-1)
        loss = -log_density.mean()
        loss.backward()
        backward_nfe = field.nfe - forward_nfe
        optimizer.step()
        return float(loss.detach()), forward_nfe, backward_nfe

    timing = bench_common.time_training_iterations(
        lambda index: train_step(batches[index % len(batches)]), warmup, repeats
    )

    record = base_record(name, cnf_workload.BATCH_SIZE, timing.samples, method)
    record["warmup"] = warmup
    bench_common.add_counted_nfe_fields(
        record, timing, "medians over the timed iterations of counted calls of the dynamics", total=True
    )
    record["rtol"] = cnf_workload.RTOL
    record["atol"] = cnf_workload.ATOL
    bench_common.emit(record)
    bench_common.log(
        f"{name}: {record['median_ms']:.1f} ms, nfe forward {record['nfe_forward']} "
        f"backward {record['nfe_backward']}, loss at iteration 0 {record['loss_iter0']:.6f}"
    )


def main():
    args = bench_common.parse_args(__doc__.splitlines()[0], "default 20 training iterations, or 5 with --quick")
    torch.set_num_threads(bench_common.THREADS)
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cnf_workload.json")
    layers, batches = cnf_workload.load(path)
    batches = [torch.from_numpy(batch) for batch in batches]
    for name, norm, method in VARIANTS:
        if bench_common.is_selected(args, name):
            run_variant(args, name, norm, method, layers, batches)


if __name__ == "__main__":
    main()
