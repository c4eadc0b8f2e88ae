#!/usr/bin/env bash
# Run every reference benchmark and write their JSON lines to one file.
#
# Usage: Benchmarks/reference/run-all.sh OUTPUT.jsonl [--quick] [--repeats N] [--filter NAME]
# The options after OUTPUT go unchanged to each script. Progress messages go
# to stderr. A failing script does not stop the others, but the exit status is
# then 1 and its name is printed at the end.
set -uo pipefail

if [[ $# -lt 1 || "$1" == -* ]]; then
    echo "usage: $0 OUTPUT.jsonl [--quick] [--repeats N] [--filter NAME]" >&2
    exit 2
fi
output="$1"
shift

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python_bin="$(cd "$script_dir/../.." && pwd)/.venv-bench/bin/python"
if [[ ! -x "$python_bin" ]]; then
    echo "error: $python_bin not found. Run Benchmarks/reference/setup-venv.sh first." >&2
    exit 1
fi

: > "$output"
failed=()
for script in torch_ops.py torchdiffeq_bench.py diffrax_bench.py; do
    echo "== $script $*" >&2
    if ! (cd "$script_dir" && "$python_bin" "$script" "$@") >> "$output"; then
        echo "error: $script failed. Its records up to the failure are in $output." >&2
        failed+=("$script")
    fi
done

echo "Wrote $(wc -l < "$output") records to $output" >&2
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "error: failed scripts: ${failed[*]}" >&2
    exit 1
fi
