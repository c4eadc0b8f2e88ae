#!/usr/bin/env bash
# Create the Python environment for the reference benchmarks at <repo>/.venv-bench.
#
# Installs torch, torchdiffeq, jax[cpu], diffrax, equinox, optax, scipy and numpy
# from PyPI. The torch wheel on PyPI pulls in about 5 GB of CUDA packages, so the
# first run takes several minutes. Re-running the script installs only what is
# missing (and upgrades pip). Pass --recreate to delete the environment and start over.
#
# Usage: Benchmarks/reference/setup-venv.sh [--recreate]
set -euo pipefail

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$script_dir/../.." && pwd)"
venv_dir="$repo_root/.venv-bench"
python_bin="${PYTHON:-python3}"

case "${1:-}" in
    "") ;;
    --recreate) rm -rf "$venv_dir" ;;
    *)
        echo "error: unknown argument '$1'. The only option is --recreate." >&2
        exit 2
        ;;
esac

if [[ ! -x "$venv_dir/bin/python" ]]; then
    echo "Creating virtual environment at $venv_dir with $("$python_bin" --version)"
    "$python_bin" -m venv "$venv_dir"
fi

pip_install() {
    "$venv_dir/bin/python" -m pip install --disable-pip-version-check "$@"
}

pip_install --upgrade pip
# torch first, on its own, because it is by far the largest download.
pip_install torch
pip_install torchdiffeq "jax[cpu]" diffrax equinox optax scipy numpy

"$venv_dir/bin/python" - <<'PY'
import importlib.metadata as metadata

for name in ["torch", "torchdiffeq", "jax", "jaxlib", "diffrax", "equinox", "optax", "scipy", "numpy"]:
    print(f"{name}=={metadata.version(name)}")
PY
echo "Environment ready: $venv_dir"
