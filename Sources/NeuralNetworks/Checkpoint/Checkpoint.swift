import TensorEngine

/// Saving and restoring a training run in one safetensors file: the model's parameters and
/// buffers, the optimizer's state, and string metadata such as the epoch.
///
/// Layout of the file:
/// - each parameter and buffer under its dotted name (`0.weight`, `norm.running_mean`…),
///   the names that PyTorch's `state_dict` uses for the same structure;
/// - each optimizer state buffer as `optimizer/<parameter>/<state>`, with PyTorch's state
///   names (`optimizer/0.weight/exp_avg`);
/// - metadata `optimizer/algorithm`, `optimizer/learning_rate`, `optimizer/step_count` and
///   `optimizer/<parameter>/step`, the hyper-parameters as `optimizer/<name>` (informative
///   only), and the caller's own metadata entries.
///
/// Loading validates the whole file against the model and optimizer before it changes
/// anything, so a rejected file leaves both as they were.
///
/// ```swift
/// try Checkpoint.save(model, optimizer: optimizer, metadata: ["epoch": "\(epoch)"], to: path)
/// let metadata = try Checkpoint.load(into: model, optimizer: optimizer, from: path)
/// let epoch = Int(metadata["epoch"] ?? "0") ?? 0
/// ```
public enum Checkpoint {
    /// Prefix of the tensor names and metadata keys that hold optimizer state.
    public static let optimizerPrefix = "optimizer/"

    /// Writes the checkpoint atomically (temporary file in the same folder, then rename).
    ///
    /// - Precondition: no metadata key starts with `optimizer/`.
    public static func save<Model: Module>(
        _ model: Model, optimizer: Optimizer<Model.Scalar>? = nil, metadata: [String: String] = [:],
        to path: String
    ) throws(CheckpointError) {
        try contents(of: model, optimizer: optimizer, metadata: metadata).write(to: path)
    }

    /// Restores the model (and the optimizer, when given) from the checkpoint at `path`, and
    /// returns the caller's metadata entries.
    ///
    /// Without an optimizer, the file's optimizer state is ignored, so a training checkpoint
    /// can be loaded for evaluation. The optimizer's hyper-parameters other than the learning
    /// rate keep the values it was created with.
    ///
    /// - Throws: `CheckpointError` naming the file when it is unreadable, corrupted, or does
    ///   not match the model or optimizer (missing or unexpected names, shapes, dtypes).
    @discardableResult
    public static func load<Model: Module>(
        into model: Model, optimizer: Optimizer<Model.Scalar>? = nil, from path: String
    ) throws(CheckpointError) -> [String: String] {
        try restore(model, optimizer: optimizer, from: SafetensorsFile.read(from: path), path: path)
    }

    // MARK: - In memory

    /// Returns the tensors and metadata that `save` writes.
    public static func contents<Model: Module>(
        of model: Model, optimizer: Optimizer<Model.Scalar>? = nil, metadata: [String: String] = [:]
    ) -> SafetensorsFile {
        var file = SafetensorsFile()
        for (name, tensor) in model.namedParameters + model.namedBuffers {
            precondition(
                file.tensors[name] == nil, "Checkpoint.save: the model has two tensors named '\(name)'")
            file.tensors[name] = SafetensorsTensor(tensor)
        }
        for (key, value) in metadata {
            precondition(
                !key.hasPrefix(optimizerPrefix),
                "Checkpoint.save: metadata key '\(key)' starts with the reserved prefix '\(optimizerPrefix)'")
            file.metadata[key] = value
        }
        guard let optimizer else { return file }

        file.metadata[optimizerPrefix + "algorithm"] = optimizer.algorithmName
        file.metadata[optimizerPrefix + "learning_rate"] = "\(optimizer.learningRate)"
        file.metadata[optimizerPrefix + "step_count"] = "\(optimizer.stepCount)"
        for (name, value) in optimizer.hyperparameters {
            file.metadata[optimizerPrefix + name] = value
        }
        for (index, (name, _)) in optimizer.namedParameters.enumerated() {
            let state = optimizer.states[index]
            file.metadata[optimizerPrefix + name + "/step"] = "\(state.step)"
            for (stateName, buffer) in state.buffers {
                file.tensors[optimizerPrefix + name + "/" + stateName] = SafetensorsTensor(buffer)
            }
        }
        return file
    }

    /// Restores the model and optimizer from decoded file contents; see `load`. `path` names
    /// the file in errors.
    @discardableResult
    public static func restore<Model: Module>(
        _ model: Model, optimizer: Optimizer<Model.Scalar>? = nil, from file: SafetensorsFile, path: String
    ) throws(CheckpointError) -> [String: String] {
        func failure(_ problem: CheckpointError.Problem) -> CheckpointError {
            CheckpointError(path: path, problem: problem)
        }
        let dtype = SafetensorsDType.of(Model.Scalar.self)

        // Validate everything first; change nothing until the whole file has matched.
        var expectedNames = Set<String>()
        var assignments: [(target: Tensor<Model.Scalar>, source: SafetensorsTensor)] = []
        func match(_ name: String, shape: [Int]) throws(CheckpointError) -> SafetensorsTensor {
            guard let stored = file.tensors[name] else { throw failure(.missingTensor(name: name)) }
            guard stored.dtype == dtype else {
                throw failure(.dtypeMismatch(tensor: name, expected: dtype.rawValue, found: stored.dtype.rawValue))
            }
            guard stored.shape == shape else {
                throw failure(.shapeMismatch(tensor: name, expected: shape, found: stored.shape))
            }
            expectedNames.insert(name)
            return stored
        }
        for (name, tensor) in model.namedParameters + model.namedBuffers {
            assignments.append((tensor, try match(name, shape: tensor.shape)))
        }

        var restoredOptimizer: (learningRate: Double, stepCount: Int, states: [ParameterState<Model.Scalar>])?
        if let optimizer {
            let algorithm = try metadataValue(optimizerPrefix + "algorithm", in: file, failure: failure)
            guard algorithm == optimizer.algorithmName else {
                throw failure(.optimizerMismatch(expected: optimizer.algorithmName, found: algorithm))
            }
            let learningRateText = try metadataValue(optimizerPrefix + "learning_rate", in: file, failure: failure)
            guard let learningRate = Double(learningRateText), learningRate >= 0, learningRate.isFinite else {
                throw failure(
                    .invalidMetadata(
                        key: optimizerPrefix + "learning_rate",
                        reason: "is '\(learningRateText)', not a non-negative finite number"))
            }
            let stepCount = try count(optimizerPrefix + "step_count", in: file, failure: failure)
            var states: [ParameterState<Model.Scalar>] = []
            for (name, parameter) in optimizer.namedParameters {
                var state = ParameterState<Model.Scalar>()
                state.step = try count(optimizerPrefix + name + "/step", in: file, failure: failure)
                // State buffers exist from a parameter's first update on.
                if state.step > 0 {
                    for stateName in optimizer.stateBufferNames {
                        let stored = try match(optimizerPrefix + name + "/" + stateName, shape: parameter.shape)
                        state.buffers[stateName] = stored.tensor(as: Model.Scalar.self)
                    }
                }
                states.append(state)
            }
            restoredOptimizer = (learningRate, stepCount, states)
        }

        for name in file.tensors.keys.sorted() where !expectedNames.contains(name) {
            // Optimizer state is ignored when no optimizer is restored.
            if optimizer == nil && name.hasPrefix(optimizerPrefix) { continue }
            throw failure(.unexpectedTensor(name: name))
        }

        // Everything matched: copy the values in place.
        for (target, source) in assignments {
            target.withUnsafeMutableBufferPointer { source.copyValues(into: $0) }
        }
        if let optimizer, let restoredOptimizer {
            optimizer.learningRate = restoredOptimizer.learningRate
            optimizer.stepCount = restoredOptimizer.stepCount
            optimizer.states = restoredOptimizer.states
        }
        return file.metadata.filter { !$0.key.hasPrefix(optimizerPrefix) }
    }

    private static func metadataValue(
        _ key: String, in file: SafetensorsFile, failure: (CheckpointError.Problem) -> CheckpointError
    ) throws(CheckpointError) -> String {
        guard let value = file.metadata[key] else {
            throw failure(.invalidMetadata(key: key, reason: "is missing; the file was saved without this optimizer's state"))
        }
        return value
    }

    private static func count(
        _ key: String, in file: SafetensorsFile, failure: (CheckpointError.Problem) -> CheckpointError
    ) throws(CheckpointError) -> Int {
        let text = try metadataValue(key, in: file, failure: failure)
        guard let value = Int(text), value >= 0 else {
            throw failure(.invalidMetadata(key: key, reason: "is '\(text)', not a non-negative integer"))
        }
        return value
    }
}
