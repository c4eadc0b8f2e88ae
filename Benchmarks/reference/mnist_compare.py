"""Run the MNIST training-step benchmark of neuralode-bench and torchdiffeq_mnist.py alternately.

Each round runs `neuralode-bench mnist --filter mnist_train` and
torchdiffeq_mnist.py back to back, the order swapping from round to round, so
that both see about the same load on a shared machine. A figure in the table
is the median over rounds of each run's median step time, and "per round" is
the range of the ratio within single rounds. The CPU columns are medians of the
process CPU time per step (every thread), which the load inflates less than
the wall time. Both programs get the same OMP_NUM_THREADS (oneDNN's and
PyTorch's OpenMP threads) and OMP_WAIT_POLICY. The raw JSON lines of every
run stay in --output-dir.

    .venv-bench/bin/python Benchmarks/reference/mnist_compare.py --data /data/mnist \
        --rounds 3 --output-dir /tmp/mnist-comparison
    .venv-bench/bin/python Benchmarks/reference/mnist_compare.py --summarize-only --output-dir /tmp/mnist-comparison

Uses only the standard library. Build the Swift side first:
swift build -c release --product neuralode-bench.
"""

import argparse
import os
import statistics
import sys

import alternating_runs

HERE = os.path.dirname(os.path.abspath(__file__))
REPOSITORY = os.path.dirname(os.path.dirname(HERE))
SWIFT = "neuralode-swift"
TORCH = "torchdiffeq"
MODELS = ["resnet", "rknet", "odenet_seminorm", "odenet_fullnorm"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", help="folder with the MNIST training files (needed unless --summarize-only)")
    alternating_runs.add_round_arguments(parser, rounds=3)
    parser.add_argument("--threads", type=int, default=2, help="OMP_NUM_THREADS and torch threads (default 2)")
    parser.add_argument(
        "--wait-policy",
        default="PASSIVE",
        help="OMP_WAIT_POLICY for both programs (default PASSIVE; empty leaves it unset)",
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed steps per model and run (default 10)")
    parser.add_argument("--filter", default="", help="only the models whose record name contains this substring")
    alternating_runs.add_program_arguments(parser, REPOSITORY, python=sys.executable)
    alternating_runs.add_summarize_only_argument(parser)
    args = parser.parse_args()
    alternating_runs.check_rounds(parser, args)
    if args.threads < 1:
        parser.error(f"--threads must be at least 1, got {args.threads}")
    if not args.summarize_only and not args.data:
        parser.error("--data is required to run the benchmarks")
    return args


def commands(args):
    # The Swift filter also keeps the memory rows out, which mnist_compare does not pair.
    selection = ["--filter", f"mnist_train_{args.filter}" if args.filter else "mnist_train"]
    repeats = ["--repeats", str(args.repeats)] if args.repeats else []
    swift = [args.bench, "mnist", "--json", "--data", args.data] + selection + repeats
    torch = [args.python, os.path.join(HERE, "torchdiffeq_mnist.py"), "--data", args.data]
    torch += ["--threads", str(args.threads)] + repeats
    if args.filter:
        torch += ["--filter", args.filter]
    return [(SWIFT, swift), (TORCH, torch)]


def run_environment(args):
    """Return the environment of both programs: OMP_NUM_THREADS, and OMP_WAIT_POLICY unless empty."""
    environment = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    if args.wait_policy:
        environment["OMP_WAIT_POLICY"] = args.wait_policy
    else:
        environment.pop("OMP_WAIT_POLICY", None)
    return environment


def load_records(output_dir):
    """Return {(name, library): [record of each run]} of the mnist_train_* rows, each tagged with its round."""
    return alternating_runs.load_round_records(
        output_dir,
        key=lambda record: (record["name"], record["library"]),
        keep=lambda record: record["name"].startswith("mnist_train_"),
    )


def describe(records):
    """Return (median ms, process CPU ms, 'forward / backward' NFE, loss at step 0, step-0 NFE) of one library's runs."""
    if not records:
        return None, None, "—", "—", "—"
    forward = alternating_runs.median_of(records, "nfe_forward")
    backward = alternating_runs.median_of(records, "nfe_backward")
    first = records[0]
    return (
        alternating_runs.median_of(records, "median_ms"),
        alternating_runs.median_of(records, "process_cpu_median_ms"),
        f"{forward:g} / {backward:g}",
        f"{first['loss_step0']:.6f}",
        f"{first['nfe_forward_step0']} / {first['nfe_backward_step0']}",
    )


def summarize(output_dir):
    table = load_records(output_dir)
    loads = [record["loadavg_1m"] for records in table.values() for record in records if "loadavg_1m" in record]
    rounds = max((len(records) for records in table.values()), default=0)
    policies = sorted({record.get("omp_wait_policy", "") for records in table.values() for record in records})
    threads = sorted({record.get("threads") for records in table.values() for record in records if "threads" in record})
    if loads:
        print(
            f"Rounds: {rounds}; 1-minute load average at the records: {min(loads):.2f} to {max(loads):.2f} "
            f"(median {statistics.median(loads):.2f}); threads field {threads}; OMP_WAIT_POLICY {policies}.\n"
        )
    print(
        "| model | neuralode-swift ms | torchdiffeq ms | swift / torch | per round | CPU ms swift | CPU ms torch | "
        "CPU swift / torch | "
        "NFE f / b swift | NFE f / b torch | loss step 0 swift | loss step 0 torch | step-0 NFE swift; torch |"
    )
    print("| --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | --- |")
    for model in MODELS:
        name = f"mnist_train_{model}"
        swift_records = table.get((name, SWIFT), [])
        torch_records = table.get((name, TORCH), [])
        if not swift_records and not torch_records:
            continue
        swift_ms, swift_cpu, swift_nfe, swift_loss, swift_first = describe(swift_records)
        torch_ms, torch_cpu, torch_nfe, torch_loss, torch_first = describe(torch_records)
        ratios = alternating_runs.round_ratios(table, (name, SWIFT), (name, TORCH))
        per_round = f"{min(ratios):.2f} to {max(ratios):.2f}" if ratios else "—"
        ratio = f"{swift_ms / torch_ms:.2f}" if swift_ms and torch_ms else "—"
        cpu_ratio = f"{swift_cpu / torch_cpu:.2f}" if swift_cpu and torch_cpu else "—"
        print(
            f"| {model} | {format_ms(swift_ms)} | {format_ms(torch_ms)} | {ratio} | {per_round} | "
            f"{format_ms(swift_cpu)} | {format_ms(torch_cpu)} | {cpu_ratio} | {swift_nfe} | "
            f"{torch_nfe} | {swift_loss} | {torch_loss} | {swift_first}; {torch_first} |"
        )


def format_ms(value):
    return "—" if value is None else f"{value:.0f}"


def main():
    args = parse_args()
    if not args.summarize_only:
        alternating_runs.run_rounds(commands(args), args.rounds, args.output_dir, run_environment(args))
    summarize(args.output_dir)


if __name__ == "__main__":
    main()
