import Foundation

/// The implementation that computes `conv2d` and its two gradients for `Float` tensors.
///
/// `Double` convolutions always take the im2col path, because oneDNN has no f64 convolution.
/// The environment variable `NEURALODE_CONVOLUTION` selects the `Float` backend once per process:
/// `onednn` (the default) or `im2col`.
enum ConvolutionBackend: String, Sendable, CaseIterable {
    /// oneDNN's convolution primitives for every geometry that oneDNN implements, and the im2col
    /// path for the rest.
    case oneDNN = "onednn"
    /// im2col (or col2im) followed by a gemm through OpenBLAS.
    case im2col

    static let environmentVariable = "NEURALODE_CONVOLUTION"

    /// The backend named by `NEURALODE_CONVOLUTION`, read on first use. It is `oneDNN` when the
    /// variable is unset or empty.
    static let configured = EngineEnvironment.valueOrStop(configuredInEnvironment())

    /// Returns the backend that `NEURALODE_CONVOLUTION` names (`oneDNN` when it is unset or
    /// empty), or the problem with its value.
    static func configuredInEnvironment() -> Result<ConvolutionBackend, EnvironmentProblem> {
        EngineEnvironment.choice(
            environmentVariable, kind: "convolution backend", defaultChoice: .oneDNN)
    }

    /// A backend that replaces `configured` within the current task, so that tests can compare
    /// both backends in one process without affecting tests that run in parallel.
    @TaskLocal static var override: ConvolutionBackend?

    /// The backend for `Float` convolutions started now on this task.
    static var current: ConvolutionBackend { override ?? configured }
}
