"""Shared command line, timing and JSON output for the reference benchmark scripts.

Every script prints one JSON object per line to stdout. All records share the
keys name, size, median_ms, p90_ms, iterations and library. The README in this
folder lists the extra keys of each script.
"""

import argparse
import json
import math
import os
import platform
import sys
import time

# Every reference number is measured with this many threads, to match the
# 2-core machine that the Swift benchmarks run on.
THREADS = 2


def parse_args(description, repeats_help):
    """Parse --repeats, --quick and --filter.

    args.repeats stays None unless given, because each benchmark has its own
    default; call repeats_for() to resolve it.
    """
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--repeats",
        type=int,
        default=None,
        help=f"number of timed samples per benchmark ({repeats_help})",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="use fewer samples and warm-up runs, for a smoke run",
    )
    parser.add_argument(
        "--filter",
        default="",
        help="run only the benchmarks whose name contains this substring",
    )
    args = parser.parse_args()
    if args.repeats is not None and args.repeats < 1:
        parser.error(f"--repeats must be at least 1, got {args.repeats}")
    return args


def repeats_for(args, default, quick):
    """Return --repeats if given, else `quick` under --quick, else `default`."""
    if args.repeats is not None:
        return args.repeats
    return quick if args.quick else default


def is_selected(args, name):
    """Return whether the benchmark `name` passes the --filter substring."""
    return args.filter in name


def time_call(fn):
    """Run `fn` once and return (elapsed seconds, return value)."""
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def calibrate_loop_count(fn, min_sample_s):
    """Return a power-of-two loop count for which `fn` runs at least `min_sample_s`.

    A sample then calls `fn` that many times, so that timer resolution and
    the per-sample overhead stay small against the measured work.
    """
    count = 1
    while True:
        start = time.perf_counter()
        for _ in range(count):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= min_sample_s or count >= 1 << 24:
            return count
        # Jump close to the target in one step, then keep doubling.
        if elapsed > 0:
            factor = min_sample_s / elapsed
            count = max(count * 2, 1 << math.ceil(math.log2(count * factor)))
        else:
            count *= 2


def time_loop(fn, repeats, loop_count, warmup):
    """Return `repeats` per-call times in seconds, each the mean of `loop_count` calls.

    The first `warmup` samples run the same loop and are discarded.
    """
    samples = []
    for index in range(warmup + repeats):
        start = time.perf_counter()
        for _ in range(loop_count):
            fn()
        elapsed = time.perf_counter() - start
        if index >= warmup:
            samples.append(elapsed / loop_count)
    return samples


def percentile(values, fraction):
    """Return the `fraction` quantile of `values` with linear interpolation (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("percentile of an empty sample list")
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    upper = math.ceil(position)
    weight = position - lower
    return ordered[lower] * (1 - weight) + ordered[upper] * weight


def summarize_seconds(samples):
    """Return the median_ms, p90_ms and iterations fields for samples in seconds."""
    return {
        "median_ms": percentile(samples, 0.5) * 1e3,
        "p90_ms": percentile(samples, 0.9) * 1e3,
        "iterations": len(samples),
    }


def median(values):
    """Return the median, as an int when it is a whole number (so counts print as counts)."""
    value = percentile(values, 0.5)
    return int(value) if float(value).is_integer() else value


def machine_fields():
    """Return the fields that describe where and how a record was measured."""
    return {
        "threads": THREADS,
        "dtype": "float32",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        # Other processes on a 2-core machine skew every number, so each record
        # carries the 1-minute load average from when it was written.
        "loadavg_1m": round(os.getloadavg()[0], 2),
    }


def emit(record):
    """Print one benchmark record as a JSON line and flush, so partial runs keep their output."""
    sys.stdout.write(json.dumps(record, sort_keys=False) + "\n")
    sys.stdout.flush()


def log(message):
    """Write a progress message to stderr, keeping stdout pure JSON lines."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


class TrainingTimes:
    """Wall and process CPU times, losses and counts of the timed training iterations."""

    def __init__(self):
        self.samples = []
        self.cpu_samples = []
        self.losses = []
        # The (loss, *counts) tuple of iteration 0, a warm-up one unless warmup is 0.
        self.first = None
        # The counts tuple of every timed iteration.
        self.counts = []

    def counts_at(self, position):
        """Return the count at `position` of every timed iteration."""
        return [counts[position] for counts in self.counts]


def time_training_iterations(step, warmup, repeats):
    """Call `step(index)` for `warmup + repeats` iterations and time the last `repeats`.

    `step` trains one iteration and returns a tuple (loss, *counts), such as
    (loss, forward NFE, backward NFE). Training continues across the warm-up
    and the timed iterations. The CPU time is time.process_time(), every
    thread of the process, so it includes threads that spin while waiting.
    """
    times = TrainingTimes()
    for index in range(warmup + repeats):
        start_cpu = time.process_time()
        start = time.perf_counter()
        result = step(index)
        elapsed = time.perf_counter() - start
        elapsed_cpu = time.process_time() - start_cpu
        times.losses.append(result[0])
        if index == 0:
            times.first = result
        if index >= warmup:
            times.samples.append(elapsed)
            times.cpu_samples.append(elapsed_cpu)
            times.counts.append(tuple(result[1:]))
    return times


def add_counted_nfe_fields(record, times, note, total=True):
    """Add the NFE fields of a training record whose step returns (loss, forward, backward).

    The fields are the medians and ranges of the forward and backward counts
    (and their sum `nfe` when `total`), `nfe_note`, iteration 0's loss and
    counts, and the last loss, in the field order of the existing result files.
    """
    forward_counts = times.counts_at(0)
    backward_counts = times.counts_at(1)
    record["nfe_forward"] = median(forward_counts)
    record["nfe_backward"] = median(backward_counts)
    if total:
        record["nfe"] = record["nfe_forward"] + record["nfe_backward"]
    record["nfe_forward_range"] = [min(forward_counts), max(forward_counts)]
    record["nfe_backward_range"] = [min(backward_counts), max(backward_counts)]
    record["nfe_note"] = note
    record["loss_iter0"], record["nfe_forward_iter0"], record["nfe_backward_iter0"] = times.first
    record["loss_last"] = times.losses[-1]

