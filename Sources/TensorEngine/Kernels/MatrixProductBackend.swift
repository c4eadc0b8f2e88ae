import CDNNL
import Foundation

/// The library that computes `Float` matrix products too large for `SmallMatrixProduct`.
///
/// The environment variable `NEURALODE_GEMM` selects it once per process: `onednn` (the default)
/// or `openblas`. `Double` products always go to OpenBLAS, because oneDNN has no f64 gemm.
///
/// oneDNN's `dnnl_sgemm` picks its kernels from the CPU it runs on (AVX-512 where present),
/// while Debian's OpenBLAS follows `OPENBLAS_CORETYPE` when that is set. On the 2-core
/// development machine (AVX-512, `OPENBLAS_CORETYPE=Haswell`) a 2-64-64-2 MLP evaluation at
/// batch 64 took 9.4 µs with oneDNN and 11.1 µs with OpenBLAS (`neuralode-bench solver`).
enum MatrixProductBackend: String, Sendable, CaseIterable {
    case oneDNN = "onednn"
    case openBLAS = "openblas"

    static let environmentVariable = "NEURALODE_GEMM"

    /// The backend named by `NEURALODE_GEMM`, read on first use. It is `oneDNN` when the
    /// variable is unset or empty.
    static let configured = EngineEnvironment.valueOrStop(configuredInEnvironment())

    /// Returns the backend that `NEURALODE_GEMM` names (`oneDNN` when it is unset or empty), or
    /// the problem with its value.
    static func configuredInEnvironment() -> Result<MatrixProductBackend, EnvironmentProblem> {
        EngineEnvironment.choice(
            environmentVariable, kind: "matrix product backend", defaultChoice: .oneDNN)
    }

    /// A backend that replaces `configured` within the current task, so that tests can compare
    /// both backends in one process.
    @TaskLocal static var override: MatrixProductBackend?

    /// The backend for `Float` products started now on this task.
    static var current: MatrixProductBackend { override ?? configured }

    /// Products with at least this many multiply-adds run as two halves of the rows of C on two
    /// threads.
    static let minimumSplitMultiplyAdds = 1 << 22

    /// `C = alpha · op(A) · op(B) + beta · C` on row-major buffers through `dnnl_sgemm`.
    ///
    /// Each `dnnl_sgemm` call runs on one OpenMP thread. Large products are split in two by rows
    /// of C and run through `TwoThreads.run` instead. OpenMP's worker threads spin while they
    /// wait, which fails badly when other processes hold the cores. With oneDNN
    /// splitting the products itself, a batch-64 MLP evaluation took 15.7 ms instead of 9.3 µs
    /// at a load average of 9 on the 2-core development machine.
    static func oneDNNProduct(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        let product = OneDNNProduct(
            transposeA: transposeA, transposeB: transposeB, n: n, k: k, alpha: alpha, a: a,
            lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        if m * n * k < minimumSplitMultiplyAdds || m < 16 {
            product.multiply(rows: 0..<m)
            return
        }
        // Halves that start on a multiple of 8 rows.
        let split = (m / 2 + 7) & ~7
        TwoThreads.run { half in
            product.multiply(rows: half == 0 ? 0..<split : split..<m)
        }
    }
}

/// The operands of one `dnnl_sgemm` product, which `multiply(rows:)` computes a band of rows of.
///
/// Two threads can compute two bands at once, because the bands write disjoint rows of C.
private struct OneDNNProduct {
    let transposeA: Bool
    let transposeB: Bool
    let n: Int
    let k: Int
    let alpha: Float
    let a: UnsafePointer<Float>
    let lda: Int
    let b: UnsafePointer<Float>
    let ldb: Int
    let beta: Float
    let c: UnsafeMutablePointer<Float>
    let ldc: Int

    /// Computes rows `rows` of C on the calling thread.
    func multiply(rows: Range<Int>) {
        // Row i of op(A) starts at row i of A, or at column i when A is transposed.
        let aStart = a + rows.lowerBound * (transposeA ? 1 : lda)
        let status = OpenMPThreads.withOneThread {
            dnnl_sgemm(
                transposeA ? 84 : 78, transposeB ? 84 : 78, Int64(rows.count), Int64(n),
                Int64(k), alpha, aStart, Int64(lda), b, Int64(ldb), beta,
                c + rows.lowerBound * ldc, Int64(ldc))
        }
        if status != dnnl_success {
            let error = OneDNNError(function: "dnnl_sgemm", status: status)
            fatalError(
                "oneDNN dnnl_sgemm failed with status \(error.statusName) for m \(rows.count), n \(n), k \(k). Set \(MatrixProductBackend.environmentVariable)=openblas to use OpenBLAS instead.")
        }
    }
}

/// OpenMP's thread-count functions, found at run time in the OpenMP library that oneDNN loads
/// (libgomp for Debian's libdnnl).
enum OpenMPThreads {
    typealias SetThreadCount = @convention(c) (Int32) -> Void
    typealias GetThreadCount = @convention(c) () -> Int32

    /// `omp_set_num_threads` and `omp_get_max_threads`, or nil when the process has no OpenMP
    /// library (oneDNN built with another threading runtime).
    static let functions: (set: SetThreadCount, get: GetThreadCount)? = {
        let program = dlopen(nil, RTLD_NOW)
        guard let set = dlsym(program, "omp_set_num_threads"),
            let get = dlsym(program, "omp_get_max_threads")
        else { return nil }
        return (unsafeBitCast(set, to: SetThreadCount.self), unsafeBitCast(get, to: GetThreadCount.self))
    }()

    /// Runs `body` with OpenMP limited to the calling thread, and restores the calling thread's
    /// setting after it.
    @inline(__always)
    static func withOneThread<R>(_ body: () -> R) -> R {
        guard let functions else { return body() }
        let previous = functions.get()
        if previous == 1 { return body() }
        functions.set(1)
        defer { functions.set(previous) }
        return body()
    }
}
