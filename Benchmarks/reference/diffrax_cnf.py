"""Time one maximum-likelihood training iteration of a planar CNF on two circles with diffrax.

The same iteration as torchdiffeq_cnf.py: solve (z, delta log p) from t = 10
back to 0 with Dopri5 and PIDController(rtol = atol = 1e-5), loss
-mean(log N(z(0); 0, 0.1 I) - delta(0)), gradient, one Adam step (optax). The
trace is exact: one Jacobian-vector product per coordinate. Two rows: the
BacksolveAdjoint (the adjoint method, as torchdiffeq's odeint_adjoint) and
diffrax's default RecursiveCheckpointAdjoint (backpropagation through the
solver with checkpoints). Each train step is jit-compiled ahead of time.
"""

import os

# XLA reads these when jax initialises its CPU backend, so they are set before
# the first jax import, as in diffrax_bench.py.
os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads=2"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import diffrax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import bench_common  # noqa: E402
import cnf_workload  # noqa: E402
from diffrax_bench import EvaluationCounter, add_nfe_fields, base_record, compile_timed  # noqa: E402
from diffrax_bench import time_compiled_training  # noqa: E402


def unit_parameters(layers, t):
    """Return W [M, d], the gated U [M, d] and B [M] at time t from the hypernetwork."""
    hidden = jnp.reshape(t, (1, 1)).astype(jnp.float32)
    for index, (weight, bias) in enumerate(layers):
        hidden = hidden @ weight.T + bias
        if index < len(layers) - 1:
            hidden = jnp.tanh(hidden)
    w, u, gate, b = cnf_workload.split_hypernetwork_output(hidden.reshape(-1))
    return w, u * jax.nn.sigmoid(gate), b


def make_term(counter=None):
    """Build the ODETerm of (z, delta): (f(z, t), -tr df/dz).

    With a counter, every evaluation also runs a host callback, so only the
    untimed counting runs pass one.
    """

    def field(t, state, layers):
        if counter is not None:
            jax.debug.callback(counter.increment)
        z, _ = state
        w, u, b = unit_parameters(layers, t)

        def velocity(points):
            return jnp.tanh(points @ w.T + b) @ u / cnf_workload.WIDTH

        value = velocity(z)
        trace = jnp.zeros(z.shape[0], dtype=z.dtype)
        for index in range(cnf_workload.DIMENSION):
            direction = jnp.zeros_like(z).at[:, index].set(1.0)
            _, column = jax.jvp(velocity, (z,), (direction,))
            trace = trace + column[:, index]
        return value, -trace.reshape(-1, 1)

    return diffrax.ODETerm(field)


def base_log_density(z):
    variance = cnf_workload.BASE_VARIANCE
    dimension = z.shape[1]
    return -0.5 * dimension * jnp.log(2 * jnp.pi * variance) - jnp.sum(z**2, axis=1) / (2 * variance)


# NOTE: diffrax 0.7.2 takes a first step of 0.01 when dt0=None (see the note
# in diffrax_bench.py), where torchdiffeq and this package select the first
# step from two evaluations, so the forward counts can differ by a few steps.
def make_loss(adjoint, counter=None):
    term = make_term(counter)

    def loss_fn(layers, batch):
        change = jnp.zeros((batch.shape[0], 1), dtype=batch.dtype)
        solution = diffrax.diffeqsolve(
            term,
            diffrax.Dopri5(),
            t0=cnf_workload.T1,
            t1=cnf_workload.T0,
            dt0=None,
            y0=(batch, change),
            args=layers,
            stepsize_controller=diffrax.PIDController(rtol=cnf_workload.RTOL, atol=cnf_workload.ATOL),
            saveat=diffrax.SaveAt(t1=True),
            adjoint=adjoint,
        )
        z, delta = solution.ys
        log_density = base_log_density(z[-1]) - delta[-1].reshape(-1)
        return -jnp.mean(log_density), solution.stats["num_steps"]

    return loss_fn


def make_train_step(adjoint, optimizer, counter=None):
    loss_fn = make_loss(adjoint, counter)

    def train_step(layers, optimizer_state, batch):
        (loss, num_steps), grads = jax.value_and_grad(loss_fn, has_aux=True)(layers, batch)
        updates, optimizer_state = optimizer.update(grads, optimizer_state, layers)
        layers = optax.apply_updates(layers, updates)
        return layers, optimizer_state, loss, num_steps

    return train_step


def count_evaluations(adjoint, optimizer, layers, batch):
    """Count dynamics calls of the forward solve alone and of a whole train step at `layers`."""
    counter = EvaluationCounter()
    forward, _ = compile_timed(make_loss(adjoint, counter), layers, batch)
    jax.block_until_ready(forward(layers, batch))
    forward_nfe = counter.read_and_reset()
    step, _ = compile_timed(make_train_step(adjoint, optimizer, counter), layers, optimizer.init(layers), batch)
    jax.block_until_ready(step(layers, optimizer.init(layers), batch))
    step_nfe = counter.read_and_reset()
    return forward_nfe, step_nfe - forward_nfe


def main():
    args = bench_common.parse_args(__doc__.splitlines()[0], "default 20 training iterations, or 5 with --quick")
    repeats = bench_common.repeats_for(args, default=20, quick=5)
    warmup = 2 if args.quick else 5
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cnf_workload.json")
    initial_layers, batches = cnf_workload.load(path)
    batches = [jnp.asarray(batch) for batch in batches]
    variants = [
        ("cnf_train_adjoint", diffrax.BacksolveAdjoint(), "BacksolveAdjoint"),
        ("cnf_train_direct", diffrax.RecursiveCheckpointAdjoint(), "RecursiveCheckpointAdjoint"),
    ]
    for name, adjoint, method in variants:
        if not bench_common.is_selected(args, name):
            continue
        # optax.adam's defaults (b1 0.9, b2 0.999, eps 1e-8) are torch.optim.Adam's.
        optimizer = optax.adam(cnf_workload.LEARNING_RATE)
        layers = [(jnp.asarray(weight), jnp.asarray(bias)) for weight, bias in initial_layers]
        optimizer_state = optimizer.init(layers)
        forward_nfe_iter0, backward_nfe_iter0 = count_evaluations(adjoint, optimizer, layers, batches[0])
        compiled, compile_s = compile_timed(make_train_step(adjoint, optimizer), layers, optimizer_state, batches[0])

        timing = time_compiled_training(
            compiled, layers, optimizer_state, lambda index: (batches[index % len(batches)],), warmup, repeats
        )

        record = base_record(
            name,
            cnf_workload.BATCH_SIZE,
            timing.samples,
            f"Dopri5, PIDController, {method}, exact trace by jvp, optax.adam, jit",
        )
        record["compile_s"] = compile_s
        record["warmup"] = warmup
        add_nfe_fields(record, timing, forward_nfe_iter0, backward_nfe_iter0, total=True, steps_median=False)
        record["rtol"] = cnf_workload.RTOL
        record["atol"] = cnf_workload.ATOL
        bench_common.emit(record)
        bench_common.log(
            f"{name}: {record['median_ms']:.1f} ms, nfe forward {record['nfe_forward']} "
            f"backward {record['nfe_backward']}, loss at iteration 0 {record['loss_iter0']:.6f}, "
            f"compile {compile_s:.1f} s"
        )


if __name__ == "__main__":
    main()
