"""Time one jit-compiled training iteration of the latent ODE of latent_workload.json in diffrax.

The iteration is that of torchdiffeq_latent.py: recognition RNN over the 1000 spirals, z0 from
the stored epsilon, Dopri5 with a PIDController at the 100 shared times, decoder, negative ELBO,
gradient and one optax Adam step. Rows:

- latent_train_direct: RecursiveCheckpointAdjoint (backpropagation through the solver with
  checkpoints, diffrax's default);
- latent_train_adjoint: BacksolveAdjoint with the forward solver and controller;
- latent_train_adjoint_seminorm: BacksolveAdjoint whose backward controller uses
  diffrax.adjoint_rms_seminorm.

The environment variable LATENT_THREADS sets XLA's intra-op threads (default 2, as diffrax_bench.py).
"""

import os

# XLA reads these when jax initialises its CPU backend, so they are set before the first jax
# import. diffrax_bench.py sets XLA_FLAGS when it is imported, so this file sets it again below.
THREADS = int(os.environ.get("LATENT_THREADS", "2"))
XLA_FLAGS = (
    f"--xla_cpu_multi_thread_eigen={'true' if THREADS > 1 else 'false'} intra_op_parallelism_threads={THREADS}"
)
os.environ["XLA_FLAGS"] = XLA_FLAGS
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import diffrax  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import optax  # noqa: E402

import bench_common  # noqa: E402
import latent_workload  # noqa: E402
from diffrax_bench import EvaluationCounter, add_nfe_fields, base_record, compile_timed  # noqa: E402
from diffrax_bench import time_compiled_training  # noqa: E402

os.environ["XLA_FLAGS"] = XLA_FLAGS


def linear(layer, x):
    """Apply a torch.nn.Linear-layout layer: weight [out, in], bias [out]."""
    weight, bias = layer
    return x @ weight.T + bias


def make_parameters(arrays):
    def layer(prefix):
        return (jnp.asarray(arrays[f"{prefix}.weight"]), jnp.asarray(arrays[f"{prefix}.bias"]))

    return {
        "dynamics": [layer(f"dynamics.{index}") for index in range(3)],
        "encoder": [layer("encoder.0"), layer("encoder.1")],
        "decoder": [layer("decoder.0"), layer("decoder.1")],
    }


def make_term(counter=None):
    """The ODETerm of f(t, z) = fc3(elu(fc2(elu(fc1(z))))); a counter adds a host callback per call."""

    def field(t, z, layers):
        if counter is not None:
            jax.debug.callback(counter.increment)
        first, second, last = layers
        return linear(last, jax.nn.elu(linear(second, jax.nn.elu(linear(first, z)))))

    return diffrax.ODETerm(field)


def encode(layers, observations):
    """Read observations [time, batch, 2] from the last time to the first; return mean and log-variance."""
    input_to_hidden, hidden_to_output = layers
    hidden_size = input_to_hidden[0].shape[0]

    def step(hidden, observation):
        return jnp.tanh(linear(input_to_hidden, jnp.concatenate((observation, hidden), axis=1))), None

    initial = jnp.zeros((observations.shape[1], hidden_size), observations.dtype)
    hidden, _ = jax.lax.scan(step, initial, observations, reverse=True)
    output = linear(hidden_to_output, hidden)
    latent = output.shape[1] // 2
    return output[:, :latent], output[:, latent:]


def make_loss(description, adjoint, counter=None):
    term = make_term(counter)
    rtol = description["rtol"]
    atol = description["atol"]
    noise_log_variance = 2.0 * jnp.log(description["noise_std"])

    def loss_fn(parameters, observations, times, epsilon):
        mean, log_variance = encode(parameters["encoder"], observations)
        initial_state = epsilon * jnp.exp(0.5 * log_variance) + mean
        solution = diffrax.diffeqsolve(
            term,
            diffrax.Dopri5(),
            t0=times[0],
            t1=times[-1],
            dt0=None,
            y0=initial_state,
            args=parameters["dynamics"],
            stepsize_controller=diffrax.PIDController(rtol=rtol, atol=atol),
            saveat=diffrax.SaveAt(ts=times),
            adjoint=adjoint,
        )
        hidden_layer, output_layer = parameters["decoder"]
        predictions = linear(output_layer, jax.nn.relu(linear(hidden_layer, solution.ys)))
        log_density = -0.5 * (
            jnp.log(2.0 * jnp.pi) + noise_log_variance + (observations - predictions) ** 2 / jnp.exp(noise_log_variance)
        )
        log_likelihood = log_density.sum(axis=(0, 2))
        kl = (-0.5 * log_variance + (jnp.exp(log_variance) + mean**2) / 2.0 - 0.5).sum(axis=1)
        return jnp.mean(kl - log_likelihood), solution.stats["num_steps"]

    return loss_fn


def make_train_step(description, adjoint, optimizer, counter=None):
    loss_fn = make_loss(description, adjoint, counter)

    def train_step(parameters, optimizer_state, observations, times, epsilon):
        (loss, num_steps), grads = jax.value_and_grad(loss_fn, has_aux=True)(parameters, observations, times, epsilon)
        updates, optimizer_state = optimizer.update(grads, optimizer_state, parameters)
        parameters = optax.apply_updates(parameters, updates)
        return parameters, optimizer_state, loss, num_steps

    return train_step


def count_evaluations(description, adjoint, optimizer, parameters, data):
    """Count dynamics calls of the loss alone and of a whole train step at `parameters`."""
    counter = EvaluationCounter()
    forward, _ = compile_timed(make_loss(description, adjoint, counter), parameters, *data)
    jax.block_until_ready(forward(parameters, *data))
    forward_nfe = counter.read_and_reset()
    step, _ = compile_timed(
        make_train_step(description, adjoint, optimizer, counter), parameters, optimizer.init(parameters), *data
    )
    jax.block_until_ready(step(parameters, optimizer.init(parameters), *data))
    step_nfe = counter.read_and_reset()
    return forward_nfe, step_nfe - forward_nfe


def bench_latent_training(args):
    description, arrays = latent_workload.load()
    data = (jnp.asarray(arrays["observations"]), jnp.asarray(arrays["times"]), jnp.asarray(arrays["epsilon"]))
    repeats = bench_common.repeats_for(args, default=20, quick=5)
    warmup = 1 if args.quick else 3
    seminorm_controller = diffrax.PIDController(
        rtol=description["rtol"], atol=description["atol"], norm=diffrax.adjoint_rms_seminorm
    )
    variants = [
        ("latent_train_direct", diffrax.RecursiveCheckpointAdjoint(), "RecursiveCheckpointAdjoint"),
        ("latent_train_adjoint", diffrax.BacksolveAdjoint(), "BacksolveAdjoint"),
        (
            "latent_train_adjoint_seminorm",
            diffrax.BacksolveAdjoint(stepsize_controller=seminorm_controller),
            "BacksolveAdjoint, adjoint_rms_seminorm",
        ),
    ]
    for name, adjoint, method in variants:
        if not bench_common.is_selected(args, name):
            continue
        optimizer = optax.adam(learning_rate=description["learning_rate"])
        parameters = make_parameters(arrays)
        optimizer_state = optimizer.init(parameters)
        forward_nfe_iter0, backward_nfe_iter0 = count_evaluations(description, adjoint, optimizer, parameters, data)

        compiled, compile_s = compile_timed(
            make_train_step(description, adjoint, optimizer), parameters, optimizer_state, *data
        )
        timing = time_compiled_training(compiled, parameters, optimizer_state, lambda index: data, warmup, repeats)

        record = base_record(
            name, description["spiral_count"], timing.samples, f"Dopri5, PIDController, {method}, jit"
        )
        record["threads"] = THREADS
        record["compile_s"] = compile_s
        record["warmup"] = warmup
        # CPU time of every thread of the process, so it includes threads that spin while waiting.
        record["process_cpu_median_ms"] = bench_common.percentile(timing.cpu_samples, 0.5) * 1e3
        add_nfe_fields(record, timing, forward_nfe_iter0, backward_nfe_iter0, total=False, steps_median=True)
        record["rtol"] = description["rtol"]
        record["atol"] = description["atol"]
        bench_common.emit(record)
        bench_common.log(
            f"{name}: {record['median_ms']:.1f} ms, nfe forward {record['nfe_forward']} "
            f"backward {record['nfe_backward']}, loss0 {record['loss_iter0']:.4f}, compile {compile_s:.1f} s"
        )


def main():
    args = bench_common.parse_args(
        __doc__.splitlines()[0], "default 20 training iterations after 3 warm-up ones, or 5 after 1 with --quick"
    )
    bench_common.log(f"jax {jax.__version__} on {jax.devices()}")
    bench_latent_training(args)


if __name__ == "__main__":
    main()
