"""Run neuralode-bench and the PyTorch reference alternately, then print the goal tables.

The machine is shared and noisy (repeat runs differ by up to 1.8x), so one
comparison is several rounds, each running both sides back to back, with the
order swapped every round. A figure in the tables is the median, over rounds,
of the per-run median. The raw JSON lines of every run stay in --output-dir.

Usage:
    python3 Benchmarks/compare.py --rounds 5 --output-dir /tmp/comparison
    python3 Benchmarks/compare.py --summarize-only --output-dir /tmp/comparison

Uses only the standard library. The Swift benchmark must be built first
(swift build -c release --product neuralode-bench) and the reference venv set
up (Benchmarks/reference/setup-venv.sh).
"""

import argparse
import os
import statistics
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPOSITORY, "Benchmarks", "reference"))

import alternating_runs  # noqa: E402

SWIFT_LIBRARY = "neuralode-swift"
OPS = ["op_add", "op_mul", "op_tanh", "op_exp", "op_sum", "op_matmul"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    alternating_runs.add_round_arguments(parser, rounds=5)
    alternating_runs.add_program_arguments(parser, REPOSITORY)
    parser.add_argument("--areas", default="ops,mlp,matmul,conv", help="comma-separated neuralode-bench areas")
    parser.add_argument("--quick", action="store_true", help="pass --quick to both sides")
    parser.add_argument("--filter", default="", help="pass --filter TEXT to both sides: only benchmarks whose name contains TEXT")
    alternating_runs.add_summarize_only_argument(parser)
    args = parser.parse_args()
    alternating_runs.check_rounds(parser, args)
    return args


def commands(args):
    """Return the (label, command) of the PyTorch side and of the Swift side, in the first round's order."""
    options = ["--quick"] if args.quick else []
    if args.filter:
        options += ["--filter", args.filter]
    torch_command = [args.python, os.path.join(REPOSITORY, "Benchmarks", "reference", "torch_ops.py")] + options
    swift_command = [args.bench] + args.areas.split(",") + ["--json"] + options
    return [("torch", torch_command), ("swift", swift_command)]


def load_records(output_dir):
    """Return {(name, size, library): [record of each run]}, each record tagged with its round."""
    return alternating_runs.load_round_records(
        output_dir, key=lambda record: (record["name"], int(record["size"]), record["library"])
    )


def range_text(ratios):
    if not ratios:
        return "missing"
    return f"{min(ratios):.2f} to {max(ratios):.2f}"


def median_ms(table, name, size, library):
    records = table.get((name, size, library))
    if not records:
        return None
    return statistics.median(record["median_ms"] for record in records)


def runs(table, name, size, library):
    return len(table.get((name, size, library), []))


def format_time(ms):
    if ms is None:
        return "missing"
    if ms < 1e-3:
        return f"{ms * 1e6:.0f} ns"
    if ms < 1:
        return f"{ms * 1e3:.3g} µs"
    return f"{ms:.3g} ms"


def ratio_text(numerator, denominator):
    if numerator is None or denominator is None:
        return "missing"
    return f"{numerator / denominator:.2f}"


def print_ops(table):
    print("### Tiny-op overhead (goal: at least 5x lower than PyTorch eager)\n")
    print(
        "| op | size | PyTorch | this package | ratio | ratio per round "
        "| recorded (inputs require gradients) | ratio |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name in OPS:
        size = 8 if name == "op_matmul" else 64
        torch = median_ms(table, name, size, "torch")
        swift = median_ms(table, name, size, SWIFT_LIBRARY)
        recorded = median_ms(table, name + "_recorded", size, SWIFT_LIBRARY)
        per_round = alternating_runs.round_ratios(table, (name, size, "torch"), (name, size, SWIFT_LIBRARY))
        print(
            f"| {name} | {size} | {format_time(torch)} | {format_time(swift)} | {ratio_text(torch, swift)} "
            f"| {range_text(per_round)} | {format_time(recorded)} | {ratio_text(torch, recorded)} |"
        )
    print()


def print_pair(table, title, names, size):
    print(f"### {title}\n")
    print("| workload | size | PyTorch | this package | ratio (PyTorch / this) | ratio per round |")
    print("|---|---|---|---|---|---|")
    for name in names:
        torch = median_ms(table, name, size, "torch")
        swift = median_ms(table, name, size, SWIFT_LIBRARY)
        per_round = alternating_runs.round_ratios(table, (name, size, "torch"), (name, size, SWIFT_LIBRARY))
        print(
            f"| {name} | {size} | {format_time(torch)} | {format_time(swift)} | {ratio_text(torch, swift)} "
            f"| {range_text(per_round)} |"
        )
    print()


def gflops(ms, size):
    return 2 * size**3 / (ms * 1e-3) / 1e9 if ms else None


def print_sgemm(table):
    print("### sgemm (goal: matmul at least 90% of OpenBLAS's own speed)\n")
    print(
        "| size | cblas_sgemm direct | matmul | matmul / cblas speed | per round "
        "| torch.mm (MKL) | numpy (its own OpenBLAS) |"
    )
    print("|---|---|---|---|---|---|---|")
    for size in (64, 256, 512, 1024):
        cblas = median_ms(table, "sgemm", size, "openblas-cblas")
        swift = median_ms(table, "sgemm", size, SWIFT_LIBRARY)
        torch = median_ms(table, "sgemm", size, "torch")
        numpy = median_ms(table, "sgemm", size, "openblas-numpy")

        def cell(ms):
            value = gflops(ms, size)
            return "missing" if value is None else f"{format_time(ms)} ({value:.0f} GFLOP/s)"

        per_round = alternating_runs.round_ratios(
            table, ("sgemm", size, "openblas-cblas"), ("sgemm", size, SWIFT_LIBRARY)
        )
        print(
            f"| {size} | {cell(cblas)} | {cell(swift)} | {ratio_text(cblas, swift)} | {range_text(per_round)} "
            f"| {cell(torch)} | {cell(numpy)} |"
        )
    print()


def print_context(table):
    loads = sorted(
        record.get("loadavg_1m", 0) for records in table.values() for record in records if "loadavg_1m" in record
    )
    versions = {}
    for records in table.values():
        for record in records:
            if "library_version" in record:
                versions.setdefault(record["library"], record["library_version"])
            elif "swift" in record:
                versions.setdefault(record["library"], "built with Swift " + record["swift"])
    rounds = max(len(records) for records in table.values())
    print(f"Rounds: {rounds}. 1-minute load average during the runs: {loads[0]} to {loads[-1]}.")
    print("Versions: " + ", ".join(f"{library} {version}".strip() for library, version in sorted(versions.items())))
    coretypes = sorted(
        {record["openblas_coretype"] for records in table.values() for record in records if "openblas_coretype" in record}
    )
    print(f"OPENBLAS_CORETYPE in the Swift runs: {', '.join(repr(value) for value in coretypes)}\n")


def main():
    args = parse_args()
    if not args.summarize_only:
        alternating_runs.run_rounds(commands(args), args.rounds, args.output_dir)
    table = load_records(args.output_dir)
    print_context(table)
    print_ops(table)
    print_pair(table, "MLP 2-64-64-2 tanh, batch 512 (goal: forward plus backward at least 3x faster than PyTorch)",
               ["mlp_forward", "mlp_forward_backward"], 512)
    print_pair(table, "3x3 convolution, 64 to 64 channels, [128, 64, 6, 6] (goal: forward plus backward no slower than PyTorch)",
               ["conv3x3_forward", "conv3x3_forward_backward"], 128)
    print_sgemm(table)


if __name__ == "__main__":
    main()
