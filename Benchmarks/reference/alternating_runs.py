"""Run benchmark programs in alternating rounds and read back their JSON lines.

On a shared machine the load changes during a comparison, so the comparison
drivers (Benchmarks/compare.py, Benchmarks/compare_solvers.py,
latent_compare.py, mnist_compare.py) run every program once per round, in an
order that rotates from round to round, and keep each run's output in
`round<N>-<label>.jsonl`. A figure is then the median over rounds of each
run's median. Uses only the standard library.
"""

import glob
import json
import os
import statistics
import subprocess
import sys


def add_round_arguments(parser, rounds):
    """Add --rounds (default `rounds`) and --output-dir to a driver's argument parser."""
    parser.add_argument("--rounds", type=int, default=rounds, help=f"alternating rounds (default {rounds})")
    parser.add_argument("--output-dir", required=True, help="folder for the JSON lines of every run")


def add_program_arguments(parser, repository, python=None):
    """Add --bench and --python. --python defaults to `python` when given, else to the repository's .venv-bench."""
    parser.add_argument(
        "--bench",
        default=os.path.join(repository, ".build", "release", "neuralode-bench"),
        help="path of the release neuralode-bench executable",
    )
    parser.add_argument(
        "--python",
        default=python or os.path.join(repository, ".venv-bench", "bin", "python"),
        help="python of the reference environment",
    )


def add_summarize_only_argument(parser):
    """Add --summarize-only, which skips the runs and only reads --output-dir."""
    parser.add_argument("--summarize-only", action="store_true", help="only read the runs in --output-dir")


def check_rounds(parser, args):
    """Exit through `parser` unless --rounds is at least 1."""
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")


def rotated(sides, index):
    """Return `sides` rotated left by `index`, so with two sides every other round is reversed."""
    shift = index % len(sides)
    return sides[shift:] + sides[:shift]


def run_to_file(command, path, environment=None):
    """Run `command` with its stdout in `path`, or exit with an error that names the file."""
    sys.stderr.write(f"== {' '.join(command)} > {path}\n")
    with open(path, "w") as output:
        completed = subprocess.run(command, stdout=output, env=environment)
    if completed.returncode != 0:
        sys.exit(f"error: {command[0]} exited with status {completed.returncode}; its output is in {path}")


def run_rounds(sides, rounds, output_dir, environment=None):
    """Run every (label, command) of `sides` once per round, rotating the order each round.

    The output of round N of `label` goes to `output_dir/round<N>-<label>.jsonl`.
    `environment` replaces the programs' environment when given.
    """
    os.makedirs(output_dir, exist_ok=True)
    for index in range(rounds):
        for label, command in rotated(sides, index):
            run_to_file(command, os.path.join(output_dir, f"round{index + 1}-{label}.jsonl"), environment)


def load_round_records(output_dir, key, keep=None, missing_hint=""):
    """Return {key(record): [record of each run]} from the round files in `output_dir`.

    Lines that do not start with "{" are skipped, and so are records for which
    `keep(record)` is false. Each record gets a `_round` field such as "round2".
    Exits with an error, followed by `missing_hint`, when there are no round files.
    """
    table = {}
    paths = sorted(glob.glob(os.path.join(output_dir, "round*-*.jsonl")))
    if not paths:
        sys.exit(f"error: no round*-*.jsonl files in {output_dir}{missing_hint}")
    for path in paths:
        round_name = os.path.basename(path).split("-")[0]
        with open(path) as handle:
            for line in handle:
                line = line.strip()
                if not line.startswith("{"):
                    continue
                record = json.loads(line)
                if keep is not None and not keep(record):
                    continue
                record["_round"] = round_name
                table.setdefault(key(record), []).append(record)
    return table


def median_of(records, field):
    """Return the median of `field` over the records that have it, or None."""
    values = [record[field] for record in records if record.get(field) is not None]
    return statistics.median(values) if values else None


def round_ratios(table, numerator_key, denominator_key):
    """Return numerator / denominator of median_ms within each round that ran both, by round name."""
    numerators = {record["_round"]: record["median_ms"] for record in table.get(numerator_key, [])}
    denominators = {record["_round"]: record["median_ms"] for record in table.get(denominator_key, [])}
    return [numerators[name] / denominators[name] for name in sorted(numerators) if name in denominators]
