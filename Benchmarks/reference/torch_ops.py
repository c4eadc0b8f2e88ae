"""Measure PyTorch per-operation overhead, a small MLP, a 3x3 convolution and sgemm on CPU.

numpy's sgemm runs on the OpenBLAS that ships in the numpy wheel, for a second
reference point next to PyTorch's BLAS.
"""

import os

# OpenBLAS reads its thread count once, when numpy loads it, so it has to be
# set before the first numpy import (torch imports numpy too).
os.environ["OPENBLAS_NUM_THREADS"] = "2"

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch import nn  # noqa: E402

import bench_common  # noqa: E402

ELEMENTWISE_SIZE = 64
TINY_MATMUL_SIZE = 8
MLP_BATCH = 512
CONV_SHAPE = (128, 64, 6, 6)  # N, C, H, W
CONV_OUT_CHANNELS = 64
SGEMM_SIZES = (64, 256, 512, 1024)


def torch_fields(name, size, samples, library="torch"):
    record = {"name": name, "size": size}
    record.update(bench_common.summarize_seconds(samples))
    record["library"] = library
    record["library_version"] = torch.__version__
    record.update(bench_common.machine_fields())
    return record


def run_timed(fn, args, min_sample_s):
    """Time `fn` in calibrated loops and return per-call samples in seconds and the loop count."""
    warmup = 2 if args.quick else 5
    for _ in range(warmup):
        fn()
    loop_count = bench_common.calibrate_loop_count(fn, min_sample_s)
    repeats = bench_common.repeats_for(args, default=30, quick=7)
    samples = bench_common.time_loop(fn, repeats, loop_count, warmup=1)
    return samples, loop_count


def bench_tiny_ops(args):
    """Time single ops on 64-element vectors and an 8x8 matmul, reported per op."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(ELEMENTWISE_SIZE, generator=generator)
    b = torch.randn(ELEMENTWISE_SIZE, generator=generator)
    m1 = torch.randn(TINY_MATMUL_SIZE, TINY_MATMUL_SIZE, generator=generator)
    m2 = torch.randn(TINY_MATMUL_SIZE, TINY_MATMUL_SIZE, generator=generator)
    cases = [
        ("op_add", ELEMENTWISE_SIZE, lambda: torch.add(a, b), "torch.add(a, b), a and b of shape [64]"),
        ("op_mul", ELEMENTWISE_SIZE, lambda: torch.mul(a, b), "torch.mul(a, b), a and b of shape [64]"),
        ("op_tanh", ELEMENTWISE_SIZE, lambda: torch.tanh(a), "torch.tanh(a), a of shape [64]"),
        ("op_exp", ELEMENTWISE_SIZE, lambda: torch.exp(a), "torch.exp(a), a of shape [64]"),
        ("op_sum", ELEMENTWISE_SIZE, lambda: torch.sum(a), "torch.sum(a) to a scalar, a of shape [64]"),
        ("op_matmul", TINY_MATMUL_SIZE, lambda: torch.mm(m1, m2), "torch.mm of [8, 8] by [8, 8]"),
    ]
    min_sample_s = 0.002 if args.quick else 0.01
    with torch.no_grad():
        for name, size, fn, shape in cases:
            if not bench_common.is_selected(args, name):
                continue
            samples, loop_count = run_timed(fn, args, min_sample_s)
            record = torch_fields(name, size, samples)
            record["median_us"] = record["median_ms"] * 1e3
            record["p90_us"] = record["p90_ms"] * 1e3
            record["ops_per_sample"] = loop_count
            record["shape"] = shape
            bench_common.emit(record)


def bench_mlp(args):
    """Time the 2-64-64-2 tanh MLP on a batch of 512, forward only and forward plus backward."""
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(2, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 2))
    x = torch.randn(MLP_BATCH, 2)
    parameters = list(net.parameters())

    def forward():
        with torch.no_grad():
            return net(x)

    def forward_backward():
        output = net(x)
        loss = torch.sum(output * output)
        return torch.autograd.grad(loss, parameters)

    min_sample_s = 0.002 if args.quick else 0.01
    cases = [
        ("mlp_forward", forward, "no_grad forward of x [512, 2]"),
        (
            "mlp_forward_backward",
            forward_backward,
            "forward, loss = sum(output**2), gradients of all 6 weight and bias tensors",
        ),
    ]
    for name, fn, description in cases:
        if not bench_common.is_selected(args, name):
            continue
        samples, loop_count = run_timed(fn, args, min_sample_s)
        record = torch_fields(name, MLP_BATCH, samples)
        record["ops_per_sample"] = loop_count
        record["shape"] = description
        bench_common.emit(record)


def bench_conv(args):
    """Time a 3x3, 64->64 channel, padding-1 convolution without bias on a [128, 64, 6, 6] batch."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(*CONV_SHAPE, generator=generator)
    fan_in = CONV_SHAPE[1] * 3 * 3
    weight = torch.randn(CONV_OUT_CHANNELS, CONV_SHAPE[1], 3, 3, generator=generator) / fan_in**0.5
    batch, channels, height, width = CONV_SHAPE
    # Multiply-adds of one forward pass, counted as 2 FLOPs each.
    forward_flops = 2 * batch * height * width * CONV_OUT_CHANNELS * channels * 3 * 3

    def forward():
        with torch.no_grad():
            return F.conv2d(x, weight, padding=1)

    x_grad = x.clone().requires_grad_(True)
    weight_grad = weight.clone().requires_grad_(True)

    def forward_backward():
        output = F.conv2d(x_grad, weight_grad, padding=1)
        return torch.autograd.grad(torch.sum(output), (x_grad, weight_grad))

    min_sample_s = 0.005 if args.quick else 0.02
    # Forward plus backward runs three convolutions of equal cost: the
    # forward pass, the gradient for the input and the gradient for the weight.
    cases = [
        ("conv3x3_forward", forward, forward_flops, "no_grad forward"),
        ("conv3x3_forward_backward", forward_backward, 3 * forward_flops, "forward, loss = sum(output), grad for input and weight"),
    ]
    for name, fn, flops, description in cases:
        if not bench_common.is_selected(args, name):
            continue
        samples, loop_count = run_timed(fn, args, min_sample_s)
        record = torch_fields(name, batch, samples)
        record["gflops"] = flops / (record["median_ms"] * 1e-3) / 1e9
        record["ops_per_sample"] = loop_count
        record["shape"] = f"input [128, 64, 6, 6], weight [64, 64, 3, 3], padding 1, no bias; {description}"
        bench_common.emit(record)


def numpy_blas_name():
    try:
        blas = np.__config__.CONFIG["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except (AttributeError, KeyError):
        return "unknown"


def bench_sgemm(args):
    """Time square Float32 matrix products with torch.mm and numpy's matmul."""
    min_sample_s = 0.01 if args.quick else 0.05
    for size in SGEMM_SIZES:
        generator = torch.Generator().manual_seed(size)
        a = torch.randn(size, size, generator=generator)
        b = torch.randn(size, size, generator=generator)
        flops = 2 * size**3
        if bench_common.is_selected(args, "sgemm"):
            with torch.no_grad():
                samples, loop_count = run_timed(lambda: torch.mm(a, b), args, min_sample_s)
            record = torch_fields("sgemm", size, samples)
            record["gflops"] = flops / (record["median_ms"] * 1e-3) / 1e9
            record["ops_per_sample"] = loop_count
            record["blas"] = "MKL" if torch.backends.mkl.is_available() else "unknown"
            bench_common.emit(record)
        if bench_common.is_selected(args, "sgemm"):
            a_np = a.numpy()
            b_np = b.numpy()
            samples, loop_count = run_timed(lambda: np.matmul(a_np, b_np), args, min_sample_s)
            record = torch_fields("sgemm", size, samples, library="openblas-numpy")
            record["library_version"] = np.__version__
            record["gflops"] = flops / (record["median_ms"] * 1e-3) / 1e9
            record["ops_per_sample"] = loop_count
            record["blas"] = numpy_blas_name()
            # NOTE: with OPENBLAS_CORETYPE=Haswell set, OpenBLAS uses its
            # AVX2 kernels even on AVX-512 processors, which lowers this number.
            record["openblas_coretype"] = os.environ.get("OPENBLAS_CORETYPE", "")
            bench_common.emit(record)


def main():
    args = bench_common.parse_args(__doc__.splitlines()[0], "default 30, or 7 with --quick")
    torch.set_num_threads(bench_common.THREADS)
    bench_common.log(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    bench_tiny_ops(args)
    bench_mlp(args)
    bench_conv(args)
    bench_sgemm(args)


if __name__ == "__main__":
    main()
