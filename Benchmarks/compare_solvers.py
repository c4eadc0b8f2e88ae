"""Run the ODE benchmarks of neuralode-bench, diffrax and torchdiffeq alternately and print tables.

The workloads of `--suite solvers` (the default) are `mlp_ode_solve` (sizes 1, 64, 4096) and
`spiral_train_direct` / `spiral_train_adjoint` (size 20); `--suite cnf` runs the `cnf_train_*`
rows of one continuous-normalizing-flow training iteration (size 512). Both are described in
Benchmarks/reference/README.md. The machine is
shared and noisy, so a comparison is several rounds. Each round runs the three programs back
to back, in an order that rotates from round to round. A figure in the tables is the median,
over rounds, of each run's median, and a ratio divides two such figures. The raw JSON lines of
every run stay in --output-dir.

Usage:
    python3 Benchmarks/compare_solvers.py --rounds 5 --output-dir /tmp/solver-comparison
    python3 Benchmarks/compare_solvers.py --summarize-only --output-dir /tmp/solver-comparison
    python3 Benchmarks/compare_solvers.py --suite cnf --rounds 3 --output-dir /tmp/cnf-comparison

Uses only the standard library. The Swift benchmark must be built first
(swift build -c release --product neuralode-bench) and the reference venv set up
(Benchmarks/reference/setup-venv.sh).
"""

import argparse
import os
import statistics
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPOSITORY, "Benchmarks", "reference"))

import alternating_runs  # noqa: E402

SWIFT = "neuralode-swift"
LIBRARIES = [SWIFT, "diffrax", "torchdiffeq"]
# Per suite: the neuralode-bench areas, the reference scripts of diffrax and torchdiffeq, and the
# (name, size) rows of the table.
SUITES = {
    "solvers": {
        "areas": ["solver", "spiral"],
        "scripts": {"diffrax": "diffrax_bench.py", "torchdiffeq": "torchdiffeq_bench.py"},
        "workloads": [
            ("mlp_ode_solve", 1),
            ("mlp_ode_solve", 64),
            ("mlp_ode_solve", 4096),
            ("spiral_train_direct", 20),
            ("spiral_train_adjoint", 20),
        ],
    },
    "cnf": {
        "areas": ["cnf"],
        "scripts": {"diffrax": "diffrax_cnf.py", "torchdiffeq": "torchdiffeq_cnf.py"},
        "workloads": [
            ("cnf_train_adjoint", 512),
            ("cnf_train_adjoint_mixed_norm", 512),
            ("cnf_train_direct", 512),
        ],
    },
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    alternating_runs.add_round_arguments(parser, rounds=5)
    alternating_runs.add_program_arguments(parser, REPOSITORY)
    parser.add_argument(
        "--references",
        default="diffrax,torchdiffeq",
        help="comma-separated reference libraries to run (default diffrax,torchdiffeq)",
    )
    parser.add_argument(
        "--suite", choices=sorted(SUITES), default="solvers", help="workloads to run and summarize (default solvers)"
    )
    parser.add_argument("--quick", action="store_true", help="pass --quick to every program")
    alternating_runs.add_summarize_only_argument(parser)
    args = parser.parse_args()
    unknown = set(args.references.split(",")) - set(LIBRARIES[1:])
    if unknown:
        parser.error(f"--references: unknown library {', '.join(sorted(unknown))}; use diffrax or torchdiffeq")
    alternating_runs.check_rounds(parser, args)
    return args


def commands(args):
    quick = ["--quick"] if args.quick else []
    reference = os.path.join(REPOSITORY, "Benchmarks", "reference")
    suite = SUITES[args.suite]
    scripts = suite["scripts"]
    sides = [
        (SWIFT, [args.bench] + suite["areas"] + ["--json"] + quick),
        ("diffrax", [args.python, os.path.join(reference, scripts["diffrax"])] + quick),
        ("torchdiffeq", [args.python, os.path.join(reference, scripts["torchdiffeq"])] + quick),
    ]
    wanted = [SWIFT] + args.references.split(",")
    return [(label, command) for label, command in sides if label in wanted]


def load_records(output_dir):
    """Return {(name, size, library): [record of each run]}."""
    return alternating_runs.load_round_records(
        output_dir, key=lambda record: (record["name"], record["size"], record["library"])
    )


def format_ms(value):
    if value is None:
        return "—"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def format_nfe(records):
    if not records:
        return "—"
    record = records[-1]
    if "nfe" in record and "nfe_forward" not in record:
        return str(record["nfe"])
    forward = alternating_runs.median_of(records, "nfe_forward")
    backward = alternating_runs.median_of(records, "nfe_backward")
    return f"{forward:g} / {backward:g}"


def round_ratio_range(table, name, size, library):
    """Return the range of swift / library over the rounds that ran both, as text."""
    ratios = alternating_runs.round_ratios(table, (name, size, SWIFT), (name, size, library))
    if not ratios:
        return "—"
    return f"{min(ratios):.2f} to {max(ratios):.2f}"


def summarize(output_dir, workloads):
    table = load_records(output_dir)
    loads = [record.get("loadavg_1m") for records in table.values() for record in records]
    loads = [value for value in loads if value is not None]
    rounds = max((len(records) for records in table.values()), default=0)
    print(f"Rounds: {rounds}; 1-minute load average during the runs: "
          f"{min(loads):.2f} to {max(loads):.2f} (median {statistics.median(loads):.2f}).\n")
    print("| workload | size | neuralode-swift ms | swift CPU ms | diffrax ms | torchdiffeq ms | "
          "swift / diffrax | per round | swift / torchdiffeq | NFE swift | NFE diffrax | NFE torchdiffeq |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | --- | --- | --- |")
    for name, size in workloads:
        medians = {}
        nfes = {}
        for library in LIBRARIES:
            records = table.get((name, size, library), [])
            medians[library] = alternating_runs.median_of(records, "median_ms")
            nfes[library] = format_nfe(records)
        swift = medians[SWIFT]
        swift_cpu = alternating_runs.median_of(table.get((name, size, SWIFT), []), "cpu_median_ms")
        per_round = round_ratio_range(table, name, size, "diffrax")

        def ratio(other):
            if swift is None or other is None:
                return "—"
            return f"{swift / other:.2f}"

        print(
            f"| {name} | {size} | {format_ms(swift)} | {format_ms(swift_cpu)} | {format_ms(medians['diffrax'])} | "
            f"{format_ms(medians['torchdiffeq'])} | {ratio(medians['diffrax'])} | {per_round} | "
            f"{ratio(medians['torchdiffeq'])} | {nfes[SWIFT]} | {nfes['diffrax']} | {nfes['torchdiffeq']} |"
        )
    extra = sorted(
        {(name, size) for (name, size, library) in table if library == SWIFT} - set(workloads)
    )
    if extra:
        print("\nRows without a reference (neuralode-swift only):\n")
        print("| workload | size | median ms | CPU ms |")
        print("| --- | ---: | ---: | ---: |")
        for name, size in extra:
            records = table[(name, size, SWIFT)]
            print(
                f"| {name} | {size} | {format_ms(alternating_runs.median_of(records, 'median_ms'))} | "
                f"{format_ms(alternating_runs.median_of(records, 'cpu_median_ms'))} |"
            )


    first_iterations = [
        (name, size, library, records)
        for (name, size, library), records in sorted(table.items())
        if records[0].get("loss_iter0") is not None
    ]
    if first_iterations:
        # Every library starts from the same weights and data, so the first iteration's losses
        # differ only by the solvers' errors, and a larger gap points to a different model.
        print("\nFirst training iteration, at the initial weights (from the first round's run):\n")
        print("| workload | library | loss_iter0 | NFE forward / backward |")
        print("| --- | --- | ---: | --- |")
        for name, size, library, records in first_iterations:
            record = records[0]
            print(
                f"| {name} | {library} | {record['loss_iter0']:.6f} | "
                f"{record.get('nfe_forward_iter0', '—')} / {record.get('nfe_backward_iter0', '—')} |"
            )


def main():
    args = parse_args()
    if not args.summarize_only:
        alternating_runs.run_rounds(commands(args), args.rounds, args.output_dir)
    summarize(args.output_dir, SUITES[args.suite]["workloads"])


if __name__ == "__main__":
    main()
