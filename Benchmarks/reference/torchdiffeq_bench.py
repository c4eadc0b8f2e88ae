"""Time torchdiffeq dopri5 on an MLP vector field and on one training step of the spiral demo."""

import importlib.metadata

import torch
import torchdiffeq
from torch import nn

import bench_common
import workloads


class CountingField(nn.Module):
    """Vector field f(t, y) = net(y), or net(y**3) when cube_input, that counts its calls in `nfe`."""

    def __init__(self, net, cube_input):
        super().__init__()
        self.net = net
        self.cube_input = cube_input
        self.nfe = 0

    def forward(self, t, y):
        self.nfe += 1
        if self.cube_input:
            y = y**3
        return self.net(y)


def base_record(name, size, samples, method):
    record = {"name": name, "size": size}
    record.update(bench_common.summarize_seconds(samples))
    record["library"] = "torchdiffeq"
    record["library_version"] = importlib.metadata.version("torchdiffeq")
    record["torch_version"] = torch.__version__
    record["method"] = method
    record.update(bench_common.machine_fields())
    return record


def bench_mlp_solve(args):
    """Time a no-grad dopri5 solve of dy/dt = mlp(y) from t=0 to t=10 for each batch size."""
    name = "mlp_ode_solve"
    if not bench_common.is_selected(args, name):
        return
    repeats = bench_common.repeats_for(args, default=20, quick=5)
    warmup = 1 if args.quick else 3
    field = CountingField(workloads.make_dynamics_mlp(), cube_input=False)
    t_span = torch.tensor([workloads.DYNAMICS_T0, workloads.DYNAMICS_T1])
    for batch_size in workloads.DYNAMICS_BATCH_SIZES:
        y0 = workloads.dynamics_initial_state(batch_size)

        def solve():
            field.nfe = 0
            with torch.no_grad():
                solution = torchdiffeq.odeint(
                    field,
                    y0,
                    t_span,
                    method="dopri5",
                    rtol=workloads.DYNAMICS_RTOL,
                    atol=workloads.DYNAMICS_ATOL,
                )
            return solution[-1]

        samples = []
        counts = set()
        for index in range(warmup + repeats):
            elapsed, y1 = bench_common.time_call(solve)
            counts.add(field.nfe)
            if index >= warmup:
                samples.append(elapsed)
        record = base_record(name, batch_size, samples, "odeint dopri5")
        # Every run solves the same problem, so the last run's count stands for
        # all of them, and nfe_constant records whether the runs agreed.
        record["nfe"] = field.nfe
        record["nfe_constant"] = len(counts) == 1
        record["nfe_note"] = "counted calls of the vector field, including the extra one for the initial step size"
        record["rtol"] = workloads.DYNAMICS_RTOL
        record["atol"] = workloads.DYNAMICS_ATOL
        record["y1_abs_mean"] = float(torch.mean(torch.abs(y1)))
        bench_common.emit(record)
        bench_common.log(f"{name} batch {batch_size}: {record['median_ms']:.2f} ms, nfe {record['nfe']}")


def bench_spiral_training(args):
    """Time forward solve, backward pass and RMSprop step of the spiral demo, direct and adjoint."""
    repeats = bench_common.repeats_for(args, default=50, quick=10)
    warmup = 2 if args.quick else 5
    batch_y0, batch_t, batch_y = workloads.spiral_batch()
    variants = [
        ("spiral_train_direct", torchdiffeq.odeint, "odeint dopri5, backprop through the solver"),
        ("spiral_train_adjoint", torchdiffeq.odeint_adjoint, "odeint_adjoint dopri5"),
    ]
    for name, solver, method in variants:
        if not bench_common.is_selected(args, name):
            continue
        # Each variant starts from the same initial weights and a fresh optimizer.
        field = CountingField(workloads.make_spiral_net(), cube_input=True)
        optimizer = torch.optim.RMSprop(field.parameters(), lr=workloads.SPIRAL_LEARNING_RATE)

        def train_step():
            optimizer.zero_grad()
            field.nfe = 0
            prediction = solver(
                field,
                batch_y0,
                batch_t,
                method="dopri5",
                rtol=workloads.SPIRAL_RTOL,
                atol=workloads.SPIRAL_ATOL,
            )
            forward_nfe = field.nfe
            loss = torch.mean(torch.abs(prediction - batch_y))
            loss.backward()
            backward_nfe = field.nfe - forward_nfe
            optimizer.step()
            return float(loss.detach()), forward_nfe, backward_nfe

        timing = bench_common.time_training_iterations(lambda index: train_step(), warmup, repeats)
        record = base_record(name, workloads.SPIRAL_BATCH_SIZE, timing.samples, method)
        record["warmup"] = warmup
        bench_common.add_counted_nfe_fields(
            record,
            timing,
            "medians over the timed iterations of counted vector-field calls; backward counts "
            "the calls made during loss.backward(), which is 0 for direct backprop",
            total=True,
        )
        record["rtol"] = workloads.SPIRAL_RTOL
        record["atol"] = workloads.SPIRAL_ATOL
        bench_common.emit(record)
        bench_common.log(
            f"{name}: {record['median_ms']:.2f} ms, nfe forward {record['nfe_forward']} backward {record['nfe_backward']}"
        )


def main():
    args = bench_common.parse_args(
        __doc__.splitlines()[0],
        "default 20 solves and 50 training iterations, or 5 and 10 with --quick",
    )
    torch.set_num_threads(bench_common.THREADS)
    bench_mlp_solve(args)
    bench_spiral_training(args)


if __name__ == "__main__":
    main()
