"""Run the latent-ODE training benchmark of neuralode-bench, diffrax and torchdiffeq alternately and print a table.

The workload is one training iteration on the 1000 spirals of latent_workload.json (rows
latent_train_direct, latent_train_adjoint, latent_train_adjoint_seminorm and, for
neuralode-swift only, latent_train_checkpointed). Each round runs the three programs back to
back, in an order that rotates from round to round. A figure in the table is the median, over
rounds, of each run's median; a ratio divides two such figures. The JSON lines of every run stay
in --output-dir.

Usage:
    python3 Benchmarks/reference/latent_compare.py --rounds 3 --output-dir /tmp/latent-comparison
    python3 Benchmarks/reference/latent_compare.py --summarize-only --output-dir /tmp/latent-comparison

Uses only the standard library. Build the Swift benchmark first
(swift build -c release --product neuralode-bench).
"""

import argparse
import os
import statistics

import alternating_runs

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(HERE))
SWIFT = "neuralode-swift"
LIBRARIES = [SWIFT, "diffrax", "torchdiffeq"]
ROWS = ["latent_train_direct", "latent_train_adjoint", "latent_train_adjoint_seminorm", "latent_train_checkpointed"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    alternating_runs.add_round_arguments(parser, rounds=3)
    parser.add_argument("--repeats", type=int, default=None, help="timed iterations per row, passed to every program")
    alternating_runs.add_program_arguments(parser, REPOSITORY)
    parser.add_argument("--quick", action="store_true", help="pass --quick to every program")
    parser.add_argument(
        "--threads", type=int, default=2, help="threads of every library, through LATENT_THREADS (default 2)"
    )
    parser.add_argument(
        "--torchdiffeq-filter", default="", help="pass --filter to torchdiffeq_latent.py only (its adjoint rows are slow)"
    )
    alternating_runs.add_summarize_only_argument(parser)

    args = parser.parse_args()
    alternating_runs.check_rounds(parser, args)
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def commands(args):
    extra = ["--quick"] if args.quick else []
    if args.repeats is not None:
        extra += ["--repeats", str(args.repeats)]
    return [
        (SWIFT, [args.bench, "latent", "--json"] + extra),
        ("diffrax", [args.python, os.path.join(HERE, "diffrax_latent.py")] + extra),
        (
            "torchdiffeq",
            [args.python, os.path.join(HERE, "torchdiffeq_latent.py"), "--filter", args.torchdiffeq_filter] + extra,
        ),
    ]


def load_records(output_dir):
    """Return {(name, library): [record of each run]}."""
    return alternating_runs.load_round_records(
        output_dir,
        key=lambda record: (record["name"], record["library"]),
        missing_hint="; run without --summarize-only first",
    )


def format_ms(value):
    if value is None:
        return "—"
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def summarize(output_dir):
    table = load_records(output_dir)
    loads = [record["loadavg_1m"] for records in table.values() for record in records if "loadavg_1m" in record]
    rounds = max(len(records) for records in table.values())
    print(
        f"Rounds: {rounds}; 1-minute load average at the records: {min(loads):.2f} to {max(loads):.2f} "
        f"(median {statistics.median(loads):.2f}).\n"
    )
    print(
        "| row | library | ms per iteration | min–max over rounds | process CPU ms | NFE forward / backward "
        "| loss at iteration 0 | load |"
    )
    print("| --- | --- | ---: | --- | ---: | --- | --- | --- |")
    medians = {}
    for name in ROWS:
        for library in LIBRARIES:
            records = table.get((name, library))
            if not records:
                continue
            run_medians = [record["median_ms"] for record in records]
            medians[(name, library)] = statistics.median(run_medians)
            forward = alternating_runs.median_of(records, "nfe_forward")
            backward = alternating_runs.median_of(records, "nfe_backward")
            losses = sorted({f"{record['loss_iter0']:.3f}" for record in records})
            load = [record.get("loadavg_1m") for record in records]
            threads = sorted({record.get("blas_threads", record.get("threads")) for record in records})
            cpu = alternating_runs.median_of(records, "process_cpu_median_ms")
            print(
                f"| {name} | {library} ({', '.join(map(str, threads))} threads) | {format_ms(medians[(name, library)])} | "
                f"{format_ms(min(run_medians))}–{format_ms(max(run_medians))} | {format_ms(cpu)} | "
                f"{forward:g} / {backward:g} | "
                f"{', '.join(losses)} | {', '.join(f'{value:.1f}' for value in load)} |"
            )
    print("\nRatios (neuralode-swift / reference, medians over rounds):\n")
    pairs = [
        ("latent_train_direct", "latent_train_direct", "diffrax"),
        ("latent_train_direct", "latent_train_direct", "torchdiffeq"),
        ("latent_train_adjoint_seminorm", "latent_train_adjoint_seminorm", "diffrax"),
        ("latent_train_adjoint_seminorm", "latent_train_adjoint_seminorm", "torchdiffeq"),
        ("latent_train_adjoint_seminorm", "latent_train_adjoint", "torchdiffeq"),
    ]
    for ours, theirs, library in pairs:
        if (ours, SWIFT) in medians and (theirs, library) in medians:
            ratio = medians[(ours, SWIFT)] / medians[(theirs, library)]
            print(f"- {ours} / {library} {theirs}: {ratio:.2f}")


def main():
    args = parse_args()
    if not args.summarize_only:
        environment = dict(os.environ, LATENT_THREADS=str(args.threads))
        alternating_runs.run_rounds(commands(args), args.rounds, args.output_dir, environment)
    summarize(args.output_dir)


if __name__ == "__main__":
    main()
