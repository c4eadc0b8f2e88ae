"""Time one training iteration of the latent ODE of torchdiffeq's example, with odeint and odeint_adjoint.

One iteration encodes the 1000 spirals of latent_workload.json with the recognition RNN, forms
z0 = mean + exp(logvar / 2) * epsilon with the stored epsilon, solves the latent dynamics at the
100 shared times, decodes every state, takes the negative ELBO averaged over the spirals,
backpropagates and makes one Adam step. Rows:

- latent_train_direct: torchdiffeq.odeint, backpropagation through the solver;
- latent_train_adjoint: torchdiffeq.odeint_adjoint with its default norm (the example's setting);
- latent_train_adjoint_seminorm: odeint_adjoint with adjoint_options={"norm": "seminorm"}.

The environment variable LATENT_THREADS sets torch's thread count (default 2, as the other scripts).
"""

import math
import os

import torch
import torchdiffeq
from torch import nn

import bench_common
import latent_workload
from torchdiffeq_bench import base_record


class Dynamics(nn.Module):
    """f(z) = fc3(elu(fc2(elu(fc1(z))))), counting its calls in `nfe`."""

    def __init__(self, layers):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.nfe = 0

    def forward(self, t, z):
        self.nfe += 1
        first, second, last = self.layers
        return last(torch.nn.functional.elu(second(torch.nn.functional.elu(first(z)))))


class LatentModel(nn.Module):
    """Recognition RNN, dynamics and decoder with the stored initial weights."""

    def __init__(self, arrays):
        super().__init__()

        def linear(prefix):
            weight = torch.from_numpy(arrays[f"{prefix}.weight"].copy())
            bias = torch.from_numpy(arrays[f"{prefix}.bias"].copy())
            layer = nn.Linear(weight.shape[1], weight.shape[0])
            with torch.no_grad():
                layer.weight.copy_(weight)
                layer.bias.copy_(bias)
            return layer

        self.dynamics = Dynamics([linear(f"dynamics.{index}") for index in range(3)])
        self.input_to_hidden = linear("encoder.0")
        self.hidden_to_output = linear("encoder.1")
        self.decoder_hidden = linear("decoder.0")
        self.decoder_output = linear("decoder.1")

    def encode(self, observations):
        """Read observations [time, batch, 2] from the last time to the first; return mean and log-variance."""
        hidden = torch.zeros(observations.shape[1], self.input_to_hidden.out_features)
        for index in reversed(range(observations.shape[0])):
            hidden = torch.tanh(self.input_to_hidden(torch.cat((observations[index], hidden), dim=1)))
        output = self.hidden_to_output(hidden)
        latent = output.shape[1] // 2
        return output[:, :latent], output[:, latent:]

    def decode(self, states):
        return self.decoder_output(torch.relu(self.decoder_hidden(states)))


def negative_elbo(observations, predictions, mean, log_variance, noise_std):
    """Mean over the batch of KL(q(z0) || N(0, I)) minus the Gaussian log-likelihood of all observations."""
    noise_log_variance = 2.0 * math.log(noise_std)
    log_density = -0.5 * (
        math.log(2.0 * math.pi) + noise_log_variance + (observations - predictions) ** 2 / math.exp(noise_log_variance)
    )
    log_likelihood = log_density.sum(dim=(0, 2))
    kl = (-0.5 * log_variance + (torch.exp(log_variance) + mean**2) / 2.0 - 0.5).sum(dim=1)
    return torch.mean(kl - log_likelihood)


def bench_latent_training(args):
    description, arrays = latent_workload.load()
    observations = torch.from_numpy(arrays["observations"])
    times = torch.from_numpy(arrays["times"])
    epsilon = torch.from_numpy(arrays["epsilon"])
    rtol = description["rtol"]
    atol = description["atol"]
    variants = [
        ("latent_train_direct", torchdiffeq.odeint, {}, "odeint dopri5, backprop through the solver"),
        ("latent_train_adjoint", torchdiffeq.odeint_adjoint, {}, "odeint_adjoint dopri5, default norm"),
        (
            "latent_train_adjoint_seminorm",
            torchdiffeq.odeint_adjoint,
            {"adjoint_options": {"norm": "seminorm"}},
            "odeint_adjoint dopri5, seminorm",
        ),
    ]
    for name, solver, solver_options, method in variants:
        if not bench_common.is_selected(args, name):
            continue
        # An adjoint iteration takes seconds on the loaded 2-core machine, so those rows run fewer.
        if solver is torchdiffeq.odeint:
            repeats = bench_common.repeats_for(args, default=20, quick=5)
            warmup = 1 if args.quick else 3
        else:
            repeats = bench_common.repeats_for(args, default=5, quick=2)
            warmup = 1
        # Each variant starts from the stored weights with a fresh optimizer.
        model = LatentModel(arrays)
        optimizer = torch.optim.Adam(model.parameters(), lr=description["learning_rate"])

        def train_step():
            optimizer.zero_grad()
            model.dynamics.nfe = 0
            mean, log_variance = model.encode(observations)
            initial_state = epsilon * torch.exp(0.5 * log_variance) + mean
            states = solver(
                model.dynamics, initial_state, times, method="dopri5", rtol=rtol, atol=atol, **solver_options
            )
            loss = negative_elbo(observations, model.decode(states), mean, log_variance, description["noise_std"])
            forward_nfe = model.dynamics.nfe
            loss.backward()
            backward_nfe = model.dynamics.nfe - forward_nfe
            optimizer.step()
            return float(loss.detach()), forward_nfe, backward_nfe

        timing = bench_common.time_training_iterations(lambda index: train_step(), warmup, repeats)
        record = base_record(name, description["spiral_count"], timing.samples, method)
        record["threads"] = torch.get_num_threads()
        record["warmup"] = warmup
        # CPU time of every thread of the process, so it includes threads that spin while waiting.
        record["process_cpu_median_ms"] = bench_common.percentile(timing.cpu_samples, 0.5) * 1e3
        bench_common.add_counted_nfe_fields(
            record,
            timing,
            "medians over the timed iterations of counted dynamics calls; backward counts the calls "
            "made during loss.backward(), which is 0 for direct backprop",
            total=False,
        )
        record["rtol"] = rtol
        record["atol"] = atol
        bench_common.emit(record)
        bench_common.log(
            f"{name}: {record['median_ms']:.1f} ms, nfe forward {record['nfe_forward']} "
            f"backward {record['nfe_backward']}, loss0 {record['loss_iter0']:.4f}"
        )


def main():
    args = bench_common.parse_args(
        __doc__.splitlines()[0], "default 20 training iterations after 3 warm-up ones (5 after 1 for the adjoint rows), "
        "or 5 after 1 (2 after 1) with --quick"
    )
    torch.set_num_threads(int(os.environ.get("LATENT_THREADS", bench_common.THREADS)))
    bench_latent_training(args)


if __name__ == "__main__":
    main()
