import Foundation

/// A setting of the tensor engine read from an environment variable, with a value the engine
/// cannot use.
public struct EnvironmentProblem: Error, Sendable {
    /// The variable, its value and what to set instead.
    public let message: String
}

/// The environment variables that tune the tensor engine: `NEURALODE_GEMM` (the library for
/// `Float` matrix products), `NEURALODE_CONVOLUTION` (the one for `Float` convolutions) and
/// `NEURALODE_SPIN_MICROSECONDS` (how long the worker thread of the two-thread kernels spins).
///
/// The engine reads each one on first use and stops with its message when the value is
/// invalid. Command-line tools call `environmentProblems()` first, so that an invalid value
/// ends the run before any work, with the message and no crash report.
public enum EngineEnvironment {
    /// Returns the problems with the engine's environment variables, none when every value is
    /// usable.
    public static func environmentProblems() -> [EnvironmentProblem] {
        var problems: [EnvironmentProblem] = []
        if case .failure(let problem) = MatrixProductBackend.configuredInEnvironment() {
            problems.append(problem)
        }
        if case .failure(let problem) = ConvolutionBackend.configuredInEnvironment() {
            problems.append(problem)
        }
        if case .failure(let problem) = TwoThreads.configuredSpin() { problems.append(problem) }
        return problems
    }

    /// Returns the choice that the environment variable `variable` names, case-insensitively
    /// (`defaultChoice` when it is unset or empty), or the problem with its value.
    ///
    /// - Parameter kind: what the choice selects, for the message, such as "matrix product
    ///   backend".
    static func choice<Choice: RawRepresentable & CaseIterable>(
        _ variable: String, kind: String, defaultChoice: Choice
    ) -> Result<Choice, EnvironmentProblem> where Choice.RawValue == String {
        let value = ProcessInfo.processInfo.environment[variable] ?? ""
        if value.isEmpty { return .success(defaultChoice) }
        if let choice = Choice(rawValue: value.lowercased()) { return .success(choice) }
        let names = Choice.allCases.map { "'\($0.rawValue)'" }.joined(separator: " or ")
        return .failure(EnvironmentProblem(
            message: "\(variable)=\(value) is not a valid \(kind). Set it to \(names), or unset it."))
    }

    /// Returns `result`'s value, or stops the program with its problem's message.
    static func valueOrStop<Value>(_ result: Result<Value, EnvironmentProblem>) -> Value {
        switch result {
        case .success(let value): return value
        case .failure(let problem): fatalError(problem.message)
        }
    }
}
