import COpenBLAS
import TensorEngine

extension BenchmarkArea {
    /// Square Float matrix products through `matmul` and through a direct `cblas_sgemm` call.
    static let matmul = BenchmarkArea(
        name: "matmul",
        summary: "square sgemm 64 to 1024: matmul against cblas_sgemm on the same buffers",
        run: runMatmulBenchmarks)
}

private let sgemmSizes = [64, 256, 512, 1024]

private func runMatmulBenchmarks(_ context: BenchmarkContext) {
    let plan = context.plan(sampleSeconds: 0.05, quickSampleSeconds: 0.01)
    guard context.wants("sgemm") else { return }
    for size in sgemmSizes {
        var generator = RandomGenerator(seed: UInt64(size))
        let a = Tensor<Float>(randomNormal: [size, size], generator: &generator)
        let b = Tensor<Float>(randomNormal: [size, size], generator: &generator)
        let c = Tensor<Float>(zeros: [size, size])
        let flops = 2 * Double(size) * Double(size) * Double(size)

        let n = Int32(size)
        // Samples of the two alternate, so that load from other processes hits both alike.
        let (cblasSamples, matmulSamples) = a.withUnsafeBufferPointer { pa in
            b.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    withoutGradients {
                        measureInterleaved(
                            plan,
                            {
                                cblas_sgemm(
                                    CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n,
                                    1, pa.baseAddress, n, pb.baseAddress, n, 0, pc.baseAddress, n)
                            },
                            { blackHole(matmul(a, b)) })
                    }
                }
            }
        }

        var cblasRecord = BenchmarkRecord(name: "sgemm", size: size, samples: cblasSamples)
        cblasRecord.library = "openblas-cblas"
        let cblasGflops = flops / cblasSamples.median / 1e9
        cblasRecord.add("gflops", .double(cblasGflops))
        cblasRecord.add("ops_per_sample", .int(cblasSamples.loopCount))
        cblasRecord.add("blas", .string("OpenBLAS (Debian libopenblas), cblas_sgemm into a preallocated C"))
        cblasRecord.note = "cblas_sgemm: " + formatSignificant(cblasGflops, digits: 3) + " GFLOP/s"
        context.report(cblasRecord)

        var record = BenchmarkRecord(name: "sgemm", size: size, samples: matmulSamples)
        let gflops = flops / matmulSamples.median / 1e9
        // Speed relative to the direct call: the median over the interleaved pairs of samples
        // of cblas time over matmul time.
        let pairRatios = zip(cblasSamples.perCall, matmulSamples.perCall).map { $0 / $1 }
        let ratio = TimingSamples(perCall: pairRatios, loopCount: 1).median
        record.add("gflops", .double(gflops))
        record.add("ops_per_sample", .int(matmulSamples.loopCount))
        record.add("blas", .string("OpenBLAS (Debian libopenblas) through Tensor matmul"))
        record.add("speed_ratio_to_cblas", .double(ratio))
        record.note = "matmul: " + formatSignificant(gflops, digits: 3) + " GFLOP/s, "
            + formatFixed(ratio * 100, decimals: 1) + "% of cblas_sgemm"
        context.report(record)
    }
}
