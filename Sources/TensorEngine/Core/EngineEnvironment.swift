/// A setting of the tensor engine read from an environment variable, with a value the engine
/// cannot use.
public struct EnvironmentProblem: Error, Sendable {
    /// The variable, its value and what to set instead.
    public let message: String
}

/// The environment variables that tune the tensor engine: `NEURALODE_GEMM` (the library for
/// `Float` matrix products) and `NEURALODE_SPIN_MICROSECONDS` (how long the worker thread of
/// the two-thread kernels spins).
///
/// The engine reads each one on first use and stops with its message when the value is bad.
/// Command-line tools call `environmentProblems()` first, so that a bad value ends the run
/// before any work, with the message and no crash report.
public enum EngineEnvironment {
    /// Returns the problems with the engine's environment variables, none when every value is
    /// usable.
    public static func environmentProblems() -> [EnvironmentProblem] {
        var problems: [EnvironmentProblem] = []
        if case .failure(let problem) = MatrixProductBackend.configuredInEnvironment() {
            problems.append(problem)
        }
        if case .failure(let problem) = TwoThreads.configuredSpin() { problems.append(problem) }
        return problems
    }
}
