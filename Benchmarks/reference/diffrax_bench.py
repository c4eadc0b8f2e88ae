"""Time diffrax Dopri5 on the same MLP solve and spiral training workloads as torchdiffeq_bench.py."""

import os

# XLA reads these when jax initialises its CPU backend, so they are set before
# the first jax import. JAX_PLATFORMS=cpu skips the search for accelerators.
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import importlib.metadata  # noqa: E402
import time  # noqa: E402

import diffrax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402
import torch  # noqa: E402

import bench_common  # noqa: E402
import workloads  # noqa: E402

# Dopri5 has 7 stages and reuses the last one as the first of the next step
# (FSAL), so each attempted step, accepted or rejected, costs 6 evaluations,
# and the first step costs one more for f(t0, y0). The counted runs confirm
# nfe = 6 * num_steps + 1 for diffrax 0.7.2.
EVALUATIONS_PER_STEP = 6
EVALUATIONS_BEFORE_FIRST_STEP = 1


def nfe_from_steps(num_steps):
    return EVALUATIONS_PER_STEP * int(num_steps) + EVALUATIONS_BEFORE_FIRST_STEP


class EvaluationCounter:
    """Host-side count of vector-field evaluations, fed by jax.debug.callback."""

    def __init__(self):
        self.count = 0

    def increment(self):
        self.count += 1

    def read_and_reset(self):
        jax.effects_barrier()
        value = self.count
        self.count = 0
        return value


def mlp(layers, y):
    """Apply Linear layers in torch.nn.Linear layout ([out, in] weights) with tanh between them."""
    for index, (weight, bias) in enumerate(layers):
        y = y @ weight.T + bias
        if index < len(layers) - 1:
            y = jnp.tanh(y)
    return y


def to_jax_layers(layers):
    return [(jnp.asarray(weight), jnp.asarray(bias)) for weight, bias in layers]


def make_term(cube_input, counter=None):
    """Build the ODETerm for f(t, y, layers) = mlp(layers, y), or mlp(layers, y**3) when cube_input.

    With a counter, every evaluation also runs a host callback. That slows
    the solve down, so only the untimed counting runs pass one.
    """

    def field(t, y, layers):
        if counter is not None:
            jax.debug.callback(counter.increment)
        if cube_input:
            y = y**3
        return mlp(layers, y)

    return diffrax.ODETerm(field)


def library_fields():
    return {
        "library": "diffrax",
        "library_version": importlib.metadata.version("diffrax"),
        "jax_version": jax.__version__,
        "jaxlib_version": importlib.metadata.version("jaxlib"),
        "equinox_version": importlib.metadata.version("equinox"),
        "optax_version": importlib.metadata.version("optax"),
    }


def base_record(name, size, samples, method):
    record = {"name": name, "size": size}
    record.update(bench_common.summarize_seconds(samples))
    record.update(library_fields())
    record["method"] = method
    record.update(bench_common.machine_fields())
    return record


def compile_timed(fn, *example_args):
    """Trace, lower and compile `fn` for the example arguments, and return (compiled, seconds)."""
    start = time.perf_counter()
    compiled = jax.jit(fn).lower(*example_args).compile()
    return compiled, time.perf_counter() - start


def time_compiled_training(compiled, parameters, optimizer_state, data_for_iteration, warmup, repeats):
    """Time the training steps `compiled(parameters, optimizer_state, *data)` with bench_common.

    `data_for_iteration(index)` returns the data arguments of iteration `index`,
    and the step returns (parameters, optimizer_state, loss, num_steps). The
    timed step includes jax.block_until_ready, so asynchronous dispatch cannot
    hide its work. Returns a bench_common.TrainingTimes whose counts are (num_steps,).
    """
    state = [parameters, optimizer_state]

    def step(index):
        state[0], state[1], loss, num_steps = jax.block_until_ready(
            compiled(state[0], state[1], *data_for_iteration(index))
        )
        return float(loss), int(num_steps)

    return bench_common.time_training_iterations(step, warmup, repeats)


NFE_NOTE = (
    "nfe_forward = 6 * num_steps + 1 from solution.stats, median over the timed iterations; "
    "nfe_backward is counted with jax.debug.callback at the initial weights only"
)


def add_nfe_fields(record, timing, forward_nfe_iter0, backward_nfe_iter0, total, steps_median, note=NFE_NOTE):
    """Add the NFE fields of a training record from `time_compiled_training`'s step counts.

    diffrax's solution.stats do not cover the backward pass, so the forward NFE
    comes from the step counts, and the backward NFE is the count at the initial
    weights, `backward_nfe_iter0`. `total` adds the sum `nfe` and `steps_median`
    adds `num_steps_forward`, the two fields that differ between the scripts.
    The field order is that of the existing result files.
    """
    step_counts = timing.counts_at(0)
    forward_counts = [nfe_from_steps(steps) for steps in step_counts]
    record["nfe_forward"] = bench_common.median(forward_counts)
    record["nfe_backward"] = backward_nfe_iter0
    if total:
        record["nfe"] = record["nfe_forward"] + record["nfe_backward"]
    record["nfe_forward_range"] = [min(forward_counts), max(forward_counts)]
    if steps_median:
        record["num_steps_forward"] = bench_common.median(step_counts)
    record["nfe_note"] = note
    record["loss_iter0"] = timing.losses[0]
    record["nfe_forward_iter0"] = forward_nfe_iter0
    record["nfe_forward_iter0_from_steps"] = nfe_from_steps(timing.first[1])
    record["nfe_backward_iter0"] = backward_nfe_iter0
    record["loss_last"] = timing.losses[-1]


# NOTE: in diffrax 0.7.2, dt0=None does not run the evaluation-based initial
# step selection that torchdiffeq uses. diffeqsolve wraps the term in a
# WrapTerm, the selection only handles a bare ODETerm, and so the first step
# is always 0.01. The two libraries therefore start from different step sizes.
def make_mlp_solve(counter=None):
    term = make_term(cube_input=False, counter=counter)

    def solve(layers, y0):
        solution = diffrax.diffeqsolve(
            term,
            diffrax.Dopri5(),
            t0=workloads.DYNAMICS_T0,
            t1=workloads.DYNAMICS_T1,
            dt0=None,
            y0=y0,
            args=layers,
            stepsize_controller=diffrax.PIDController(rtol=workloads.DYNAMICS_RTOL, atol=workloads.DYNAMICS_ATOL),
            saveat=diffrax.SaveAt(t1=True),
        )
        return solution.ys[-1], solution.stats["num_steps"]

    return solve


def bench_mlp_solve(args):
    """Time a jit-compiled Dopri5 solve of dy/dt = mlp(y) from t=0 to t=10 for each batch size."""
    name = "mlp_ode_solve"
    if not bench_common.is_selected(args, name):
        return
    repeats = bench_common.repeats_for(args, default=20, quick=5)
    warmup = 1 if args.quick else 3
    layers = to_jax_layers(workloads.linear_parameters(workloads.make_dynamics_mlp()))
    counter = EvaluationCounter()
    for batch_size in workloads.DYNAMICS_BATCH_SIZES:
        # The whole [batch, 2] array is one ODE state with one shared step
        # size, as in torchdiffeq, so the error norm mixes all batch rows.
        y0 = jnp.asarray(workloads.dynamics_initial_state(batch_size).numpy())
        compiled, compile_s = compile_timed(make_mlp_solve(), layers, y0)

        def solve():
            return jax.block_until_ready(compiled(layers, y0))

        samples = []
        for index in range(warmup + repeats):
            elapsed, (y1, num_steps) = bench_common.time_call(solve)
            if index >= warmup:
                samples.append(elapsed)

        counting, _ = compile_timed(make_mlp_solve(counter), layers, y0)
        jax.block_until_ready(counting(layers, y0))
        counted = counter.read_and_reset()

        record = base_record(name, batch_size, samples, "Dopri5, PIDController, jit")
        record["compile_s"] = compile_s
        record["nfe"] = counted
        record["num_steps"] = int(num_steps)
        record["nfe_from_steps"] = nfe_from_steps(num_steps)
        record["nfe_note"] = (
            "nfe counts vector-field calls with jax.debug.callback in a separate untimed run; "
            "nfe_from_steps = 6 * num_steps + 1 from solution.stats"
        )
        record["rtol"] = workloads.DYNAMICS_RTOL
        record["atol"] = workloads.DYNAMICS_ATOL
        record["y1_abs_mean"] = float(jnp.mean(jnp.abs(y1)))
        bench_common.emit(record)
        bench_common.log(
            f"{name} batch {batch_size}: {record['median_ms']:.2f} ms, nfe {counted}, compile {compile_s:.1f} s"
        )


def make_spiral_optimizer():
    # torch.optim.RMSprop defaults: alpha 0.99, eps 1e-8 added after the
    # square root, zero initial mean square. optax's own defaults differ
    # (decay 0.9, eps inside the square root), so every one is set here.
    return optax.rmsprop(
        learning_rate=workloads.SPIRAL_LEARNING_RATE,
        decay=0.99,
        eps=1e-8,
        initial_scale=0.0,
        eps_in_sqrt=False,
    )


def make_spiral_loss(adjoint, counter=None):
    term = make_term(cube_input=True, counter=counter)

    def loss_fn(layers, batch_y0, batch_t, batch_y):
        solution = diffrax.diffeqsolve(
            term,
            diffrax.Dopri5(),
            t0=batch_t[0],
            t1=batch_t[-1],
            dt0=None,
            y0=batch_y0,
            args=layers,
            stepsize_controller=diffrax.PIDController(rtol=workloads.SPIRAL_RTOL, atol=workloads.SPIRAL_ATOL),
            saveat=diffrax.SaveAt(ts=batch_t),
            adjoint=adjoint,
        )
        loss = jnp.mean(jnp.abs(solution.ys - batch_y))
        return loss, solution.stats["num_steps"]

    return loss_fn


def make_train_step(adjoint, optimizer, counter=None):
    loss_fn = make_spiral_loss(adjoint, counter)

    def train_step(layers, optimizer_state, batch_y0, batch_t, batch_y):
        (loss, num_steps), grads = jax.value_and_grad(loss_fn, has_aux=True)(layers, batch_y0, batch_t, batch_y)
        updates, optimizer_state = optimizer.update(grads, optimizer_state, layers)
        layers = optax.apply_updates(layers, updates)
        return layers, optimizer_state, loss, num_steps

    return train_step


def count_spiral_evaluations(adjoint, optimizer, layers, data):
    """Count vector-field calls of the forward solve alone and of a whole train step at `layers`."""
    counter = EvaluationCounter()
    forward, _ = compile_timed(make_spiral_loss(adjoint, counter), layers, *data)
    jax.block_until_ready(forward(layers, *data))
    forward_nfe = counter.read_and_reset()

    step, _ = compile_timed(make_train_step(adjoint, optimizer, counter), layers, optimizer.init(layers), *data)
    jax.block_until_ready(step(layers, optimizer.init(layers), *data))
    step_nfe = counter.read_and_reset()
    return forward_nfe, step_nfe - forward_nfe


def bench_spiral_training(args):
    """Time one jit-compiled train step (solve, gradient, RMSprop update) of the spiral demo."""
    repeats = bench_common.repeats_for(args, default=50, quick=10)
    warmup = 2 if args.quick else 5
    data = tuple(jnp.asarray(tensor.numpy()) for tensor in workloads.spiral_batch())
    variants = [
        ("spiral_train_direct", diffrax.RecursiveCheckpointAdjoint(), "RecursiveCheckpointAdjoint"),
        ("spiral_train_adjoint", diffrax.BacksolveAdjoint(), "BacksolveAdjoint"),
    ]
    for name, adjoint, method in variants:
        if not bench_common.is_selected(args, name):
            continue
        optimizer = make_spiral_optimizer()
        layers = to_jax_layers(workloads.linear_parameters(workloads.make_spiral_net()))
        optimizer_state = optimizer.init(layers)
        forward_nfe_iter0, backward_nfe_iter0 = count_spiral_evaluations(adjoint, optimizer, layers, data)

        compiled, compile_s = compile_timed(make_train_step(adjoint, optimizer), layers, optimizer_state, *data)
        timing = time_compiled_training(compiled, layers, optimizer_state, lambda index: data, warmup, repeats)

        record = base_record(
            name, workloads.SPIRAL_BATCH_SIZE, timing.samples, f"Dopri5, PIDController, {method}, jit"
        )
        record["compile_s"] = compile_s
        record["warmup"] = warmup
        add_nfe_fields(
            record,
            timing,
            forward_nfe_iter0,
            backward_nfe_iter0,
            total=True,
            steps_median=True,
            note=NFE_NOTE + ", because the stats do not cover the backward pass",
        )
        record["rtol"] = workloads.SPIRAL_RTOL
        record["atol"] = workloads.SPIRAL_ATOL
        bench_common.emit(record)
        bench_common.log(
            f"{name}: {record['median_ms']:.2f} ms, nfe forward {record['nfe_forward']} "
            f"backward {record['nfe_backward']}, compile {compile_s:.1f} s"
        )


def main():
    args = bench_common.parse_args(
        __doc__.splitlines()[0],
        "default 20 solves and 50 training iterations, or 5 and 10 with --quick",
    )
    # torch only generates the shared inputs in workloads.py and runs no benchmark here.
    torch.set_num_threads(bench_common.THREADS)
    bench_common.log(f"jax {jax.__version__} on {jax.devices()}, diffrax {importlib.metadata.version('diffrax')}")
    bench_mlp_solve(args)
    bench_spiral_training(args)


if __name__ == "__main__":
    main()
