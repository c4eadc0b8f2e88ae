import Foundation
import TensorEngine

#if canImport(Glibc)
import Glibc
#endif

/// The inputs of the ODE workloads in `Benchmarks/reference/workloads.json`, as the Python
/// reference scripts generate them, so that both sides start from bit-identical Float values.
///
/// Layers follow `torch.nn.Linear`: weight `[out, in]`, `output = input · weightᵀ + bias`.
struct ReferenceWorkloads {
    /// One linear layer: weight `[out, in]` and bias `[out]`.
    struct Layer {
        let weight: Tensor<Float>
        let bias: Tensor<Float>
    }

    /// The 2-64-64-2 tanh MLP of `mlp_ode_solve`.
    let dynamicsLayers: [Layer]
    /// Its initial states by batch size (1, 64 and 4096), each `[batch, 2]`.
    let dynamicsInitialStates: [Int: Tensor<Float>]
    let dynamicsStartTime: Double
    let dynamicsEndTime: Double
    let dynamicsRelativeTolerance: Double
    let dynamicsAbsoluteTolerance: Double

    /// The spiral batch: first states `[20, 2]`, the 10 window times, the targets `[10, 20, 2]`.
    let spiralInitialStates: Tensor<Float>
    let spiralTimes: [Double]
    let spiralTargets: Tensor<Float>
    /// Initial layers of the spiral model, Linear(2, 50) and Linear(50, 2).
    let spiralLayers: [Layer]
    let spiralRelativeTolerance: Double
    let spiralAbsoluteTolerance: Double
    let spiralLearningRate: Double

    /// The file in the source tree, found from this source file's path; the environment
    /// variable `NEURALODE_WORKLOADS` overrides it.
    static var defaultPath: String {
        referenceWorkloadPath(fileName: "workloads.json", environmentVariable: "NEURALODE_WORKLOADS")
    }

    /// Loads the workloads once per process.
    nonisolated(unsafe) static let shared: ReferenceWorkloads = {
        let path = defaultPath
        do {
            return try ReferenceWorkloads(contentsOf: path)
        } catch {
            writeStandardError(
                "error: cannot read the reference workloads at \(path): \(error)\n"
                    + "Set NEURALODE_WORKLOADS to the path of Benchmarks/reference/workloads.json.\n")
            exit(2)
        }
    }()

    init(contentsOf path: String) throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let root = try JSONSerialization.jsonObject(with: data) as? [String: Any],
            let dynamics = root["mlp_dynamics"] as? [String: Any],
            let spiral = root["spiral"] as? [String: Any]
        else { throw WorkloadError.missing("mlp_dynamics or spiral") }

        dynamicsLayers = try Self.layers(dynamics["layers"], key: "mlp_dynamics.layers")
        guard let states = dynamics["y0"] as? [String: Any] else {
            throw WorkloadError.missing("mlp_dynamics.y0")
        }
        var initialStates: [Int: Tensor<Float>] = [:]
        for (key, value) in states {
            guard let size = Int(key) else { throw WorkloadError.missing("mlp_dynamics.y0 size \(key)") }
            initialStates[size] = try Self.array(value, key: "mlp_dynamics.y0.\(key)")
        }
        dynamicsInitialStates = initialStates
        dynamicsStartTime = try Self.number(dynamics["t0"], key: "mlp_dynamics.t0")
        dynamicsEndTime = try Self.number(dynamics["t1"], key: "mlp_dynamics.t1")
        dynamicsRelativeTolerance = try Self.number(dynamics["rtol"], key: "mlp_dynamics.rtol")
        dynamicsAbsoluteTolerance = try Self.number(dynamics["atol"], key: "mlp_dynamics.atol")

        spiralInitialStates = try Self.array(spiral["batch_y0"], key: "spiral.batch_y0")
        // The reference solvers receive the Float32 times, so the same values are used here.
        spiralTimes = try Self.array(spiral["batch_t"], key: "spiral.batch_t").scalars.map { Double($0) }
        spiralTargets = try Self.array(spiral["batch_y"], key: "spiral.batch_y")
        spiralLayers = try Self.layers(spiral["initial_layers"], key: "spiral.initial_layers")
        spiralRelativeTolerance = try Self.number(spiral["rtol"], key: "spiral.rtol")
        spiralAbsoluteTolerance = try Self.number(spiral["atol"], key: "spiral.atol")
        spiralLearningRate = try Self.number(spiral["learning_rate"], key: "spiral.learning_rate")
    }

    private static func number(_ value: Any?, key: String) throws -> Double {
        guard let number = value as? NSNumber else { throw WorkloadError.missing(key) }
        return number.doubleValue
    }

    private static func array(_ value: Any?, key: String) throws -> Tensor<Float> {
        guard let object = value as? [String: Any], let shape = object["shape"] as? [Int],
            let data = object["data"] as? [NSNumber]
        else { throw WorkloadError.missing(key) }
        guard shape.reduce(1, *) == data.count else {
            throw WorkloadError.malformed("\(key): shape \(shape) but \(data.count) values")
        }
        return Tensor(shape: shape, scalars: data.map { $0.floatValue })
    }

    private static func layers(_ value: Any?, key: String) throws -> [Layer] {
        guard let list = value as? [[String: Any]] else { throw WorkloadError.missing(key) }
        return try list.enumerated().map { index, layer in
            Layer(
                weight: try array(layer["weight"], key: "\(key)[\(index)].weight"),
                bias: try array(layer["bias"], key: "\(key)[\(index)].bias"))
        }
    }
}

enum WorkloadError: Error, CustomStringConvertible {
    case missing(String)
    case malformed(String)

    var description: String {
        switch self {
        case .missing(let key): return "missing or mistyped field \(key)"
        case .malformed(let detail): return detail
        }
    }
}

/// Returns the median of `values`, the mean of the two middle ones for an even count.
func medianOf(_ values: [Int]) -> Double {
    precondition(!values.isEmpty, "medianOf: no values")
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? Double(sorted[middle]) : Double(sorted[middle - 1] + sorted[middle]) / 2
}

/// Returns the path in the environment variable `environmentVariable` when it is set, or else
/// `Benchmarks/reference/<fileName>` in the source tree, found from this source file's path.
func referenceWorkloadPath(fileName: String, environmentVariable: String) -> String {
    if let path = ProcessInfo.processInfo.environment[environmentVariable] { return path }
    let source = URL(fileURLWithPath: #filePath)
    return source.deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
        .appendingPathComponent("Benchmarks/reference/\(fileName)").path
}
