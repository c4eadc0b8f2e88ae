import Foundation
import NeuralNetworks
import TensorEngine
import Testing

/// Creates a small model with parameters and buffers: Linear, BatchNorm, Tanh, Linear.
func makeModel<Scalar: TensorScalar>(_: Scalar.Type, seed: UInt64) -> Sequential<Scalar> {
    var generator = RandomGenerator(seed: seed)
    return Sequential<Scalar>(
        Linear(inputSize: 3, outputSize: 4, generator: &generator), BatchNorm(featureCount: 4), Tanh(),
        Linear(inputSize: 4, outputSize: 2, generator: &generator))
}

/// Creates a new empty folder under the system's temporary folder and returns its path.
func makeTemporaryFolder() throws -> String {
    let path = FileManager.default.temporaryDirectory
        .appendingPathComponent("checkpoint-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Returns the bit patterns of every parameter and buffer, by name.
func bitPatterns<Model: Module>(_ model: Model) -> [String: [UInt64]] {
    var result: [String: [UInt64]] = [:]
    for (name, tensor) in model.namedParameters + model.namedBuffers {
        result[name] = tensor.scalars.map { value in
            if let float = value as? Float { return UInt64(float.bitPattern) }
            return (value as! Double).bitPattern
        }
    }
    return result
}

/// Runs `count` training steps of `model` on fixed data drawn from `seed`.
func train<Scalar: TensorScalar>(
    _ model: Sequential<Scalar>, _ optimizer: Optimizer<Scalar>, steps count: Int, seed: UInt64
) {
    var generator = RandomGenerator(seed: seed)
    for _ in 0..<count {
        let input = Tensor<Scalar>(randomNormal: [8, 3], generator: &generator)
        let labels = (0..<8).map { _ in generator.nextInt(below: 2) }
        let loss = crossEntropy(logits: model(input), labels: labels)
        optimizer.step(gradients: gradients(of: loss, withRespectTo: optimizer.parameters))
    }
}

@Suite("Checkpoints")
struct CheckpointTests {
    @Test("parameters and buffers round-trip bit-exactly", arguments: [false, true])
    func roundTrip(double: Bool) throws {
        let folder = try makeTemporaryFolder()
        let path = folder + "/model.safetensors"
        // A forward pass in training mode fills the batch-norm running statistics.
        var generator = RandomGenerator(seed: 77)
        if double {
            let model = makeModel(Double.self, seed: 1)
            _ = model(Tensor(randomNormal: [5, 3], generator: &generator))
            // Special values survive too.
            model.layers[0].namedParameters[1].tensor.withUnsafeMutableBufferPointer {
                $0[0] = -0.0
                $0[1] = .leastNonzeroMagnitude
                $0[2] = .infinity
            }
            try Checkpoint.save(model, metadata: ["epoch": "3"], to: path)
            let restored = makeModel(Double.self, seed: 2)
            #expect(bitPatterns(restored) != bitPatterns(model))
            let metadata = try Checkpoint.load(into: restored, from: path)
            #expect(bitPatterns(restored) == bitPatterns(model))
            #expect(metadata == ["epoch": "3"])
        } else {
            let model = makeModel(Float.self, seed: 1)
            _ = model(Tensor(randomNormal: [5, 3], generator: &generator))
            try Checkpoint.save(model, to: path)
            let restored = makeModel(Float.self, seed: 2)
            #expect(try Checkpoint.load(into: restored, from: path).isEmpty)
            #expect(bitPatterns(restored) == bitPatterns(model))
        }
        // The atomic write leaves no temporary file behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.safetensors"])
    }

    @Test("the file lists parameters and buffers under PyTorch's names")
    func tensorNames() {
        let contents = Checkpoint.contents(of: makeModel(Float.self, seed: 1))
        #expect(
            contents.tensors.keys.sorted() == [
                "0.bias", "0.weight", "1.bias", "1.running_mean", "1.running_var", "1.weight", "3.bias",
                "3.weight",
            ])
        #expect(contents.tensors["0.weight"]?.shape == [4, 3])
        #expect(contents.tensors["0.weight"]?.dtype == .float32)
    }

    @Test("resuming from a checkpoint gives the same steps as an uninterrupted run", arguments: ["SGD", "Adam", "RMSprop"])
    func resume(algorithm: String) throws {
        func makeOptimizer(_ model: Sequential<Float>) -> Optimizer<Float> {
            switch algorithm {
            case "SGD":
                SGD(parameters: model.namedParameters, learningRate: 0.1, momentum: 0.9, nesterov: true)
            case "Adam":
                Adam(parameters: model.namedParameters, learningRate: 0.01, weightDecay: 1e-3)
            default:
                RMSprop(parameters: model.namedParameters, momentum: 0.5, centered: true)
            }
        }
        let path = try makeTemporaryFolder() + "/run.safetensors"

        let model = makeModel(Float.self, seed: 1)
        let optimizer = makeOptimizer(model)
        train(model, optimizer, steps: 3, seed: 10)
        optimizer.learningRate *= 0.5
        try Checkpoint.save(model, optimizer: optimizer, metadata: ["epoch": "1"], to: path)
        train(model, optimizer, steps: 2, seed: 11)

        let resumedModel = makeModel(Float.self, seed: 2)
        let resumedOptimizer = makeOptimizer(resumedModel)
        let metadata = try Checkpoint.load(into: resumedModel, optimizer: resumedOptimizer, from: path)
        #expect(metadata == ["epoch": "1"])
        #expect(resumedOptimizer.learningRate == optimizer.learningRate)
        #expect(resumedOptimizer.stepCount == 3)
        train(resumedModel, resumedOptimizer, steps: 2, seed: 11)

        #expect(bitPatterns(resumedModel) == bitPatterns(model))
        #expect(resumedOptimizer.stepCount == optimizer.stepCount)
        for (name, _) in optimizer.namedParameters {
            let original = try #require(optimizer.state(ofParameter: name))
            let resumed = try #require(resumedOptimizer.state(ofParameter: name))
            #expect(resumed.step == original.step)
            #expect(resumed.buffers.mapValues(\.scalars) == original.buffers.mapValues(\.scalars))
        }
    }

    @Test("optimizer state is saved under PyTorch's state names")
    func optimizerStateNames() {
        let model = makeModel(Double.self, seed: 1)
        let optimizer = Adam(parameters: model.namedParameters)
        train(model, optimizer, steps: 1, seed: 3)
        let contents = Checkpoint.contents(of: model, optimizer: optimizer)
        #expect(contents.tensors["optimizer/0.weight/exp_avg"]?.shape == [4, 3])
        #expect(contents.tensors["optimizer/3.bias/exp_avg_sq"]?.dtype == .float64)
        #expect(contents.metadata["optimizer/algorithm"] == "Adam")
        #expect(contents.metadata["optimizer/learning_rate"] == "0.001")
        #expect(contents.metadata["optimizer/0.weight/step"] == "1")
        #expect(contents.metadata["optimizer/beta2"] == "0.999")
    }

    @Test("a model alone loads from a training checkpoint")
    func modelOnlyLoad() throws {
        let model = makeModel(Float.self, seed: 1)
        let optimizer = SGD(parameters: model.namedParameters, learningRate: 0.1, momentum: 0.9)
        train(model, optimizer, steps: 1, seed: 3)
        let contents = Checkpoint.contents(of: model, optimizer: optimizer)
        let restored = makeModel(Float.self, seed: 2)
        try Checkpoint.restore(restored, from: contents, path: "run.safetensors")
        #expect(bitPatterns(restored) == bitPatterns(model))
    }

    @Test("mismatched file is rejected, model unchanged")
    func mismatches() throws {
        let source = makeModel(Float.self, seed: 1)
        let contents = Checkpoint.contents(of: source)
        let target = makeModel(Float.self, seed: 2)
        let before = bitPatterns(target)

        func problem(_ file: SafetensorsFile) -> CheckpointError.Problem? {
            do {
                try Checkpoint.restore(target, from: file, path: "m.safetensors")
                return nil
            } catch {
                #expect(error.path == "m.safetensors")
                return error.problem
            }
        }

        var missing = contents
        missing.tensors["1.running_var"] = nil
        #expect(problem(missing) == .missingTensor(name: "1.running_var"))

        var unexpected = contents
        unexpected.tensors["4.weight"] = SafetensorsTensor(Tensor<Float>([1]))
        #expect(problem(unexpected) == .unexpectedTensor(name: "4.weight"))

        var reshaped = contents
        reshaped.tensors["0.weight"] = SafetensorsTensor(Tensor<Float>(zeros: [3, 4]))
        #expect(problem(reshaped) == .shapeMismatch(tensor: "0.weight", expected: [4, 3], found: [3, 4]))

        let doubleFile = Checkpoint.contents(of: makeModel(Double.self, seed: 1))
        #expect(problem(doubleFile) == .dtypeMismatch(tensor: "0.weight", expected: "F32", found: "F64"))

        // Every failed load above left the model as it was.
        #expect(bitPatterns(target) == before)
    }

    @Test("optimizer state of another algorithm or missing is rejected")
    func optimizerMismatch() {
        let model = makeModel(Float.self, seed: 1)
        let adam = Adam(parameters: model.namedParameters)
        train(model, adam, steps: 1, seed: 3)
        let withAdam = Checkpoint.contents(of: model, optimizer: adam)
        let sgd = SGD(parameters: model.namedParameters, learningRate: 0.1)

        func problem(_ file: SafetensorsFile, _ optimizer: Optimizer<Float>) -> CheckpointError.Problem? {
            do {
                try Checkpoint.restore(model, optimizer: optimizer, from: file, path: "run.safetensors")
                return nil
            } catch {
                return error.problem
            }
        }
        #expect(problem(withAdam, sgd) == .optimizerMismatch(expected: "SGD", found: "Adam"))

        let withoutOptimizer = Checkpoint.contents(of: model)
        guard case .invalidMetadata(let key, _) = problem(withoutOptimizer, sgd) else {
            Issue.record("a file without optimizer state was accepted for an optimizer")
            return
        }
        #expect(key == "optimizer/algorithm")

        var missingMoment = withAdam
        missingMoment.tensors["optimizer/0.bias/exp_avg_sq"] = nil
        let freshAdam = Adam(parameters: model.namedParameters)
        #expect(problem(missingMoment, freshAdam) == .missingTensor(name: "optimizer/0.bias/exp_avg_sq"))
        #expect(freshAdam.stepCount == 0)

        var badStep = withAdam
        badStep.metadata["optimizer/0.bias/step"] = "-1"
        #expect(problem(badStep, freshAdam) == .invalidMetadata(key: "optimizer/0.bias/step", reason: "is '-1', not a non-negative integer"))
    }

    @Test("saving into a missing folder fails with the path")
    func writeFailure() {
        let path = "/nonexistent-folder-for-checkpoint-tests/model.safetensors"
        do {
            try Checkpoint.save(makeModel(Float.self, seed: 1), to: path)
            Issue.record("saving into a missing folder succeeded")
        } catch {
            guard case .writeFailed = error.problem else {
                Issue.record("unexpected problem \(error.problem)")
                return
            }
            #expect(error.description.hasPrefix("Checkpoint \(path): cannot be written"))
        }
    }

    @Test("loading a missing file fails with the path")
    func readFailure() throws {
        let path = try makeTemporaryFolder() + "/absent.safetensors"
        do {
            try Checkpoint.load(into: makeModel(Float.self, seed: 1), from: path)
            Issue.record("loading a missing file succeeded")
        } catch {
            #expect(error.problem == .unreadable(reason: "No such file or directory"))
            #expect(error.description.contains(path))
        }
    }

    @Test("saving replaces an existing file")
    func overwrite() throws {
        let folder = try makeTemporaryFolder()
        let path = folder + "/model.safetensors"
        let first = makeModel(Float.self, seed: 1)
        let second = makeModel(Float.self, seed: 2)
        try Checkpoint.save(first, to: path)
        try Checkpoint.save(second, to: path)
        let restored = makeModel(Float.self, seed: 3)
        try Checkpoint.load(into: restored, from: path)
        #expect(bitPatterns(restored) == bitPatterns(second))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["model.safetensors"])
    }

    @Test("a truncated checkpoint file is rejected at every length")
    func truncatedFile() throws {
        let folder = try makeTemporaryFolder()
        let path = folder + "/model.safetensors"
        let model = makeModel(Float.self, seed: 1)
        try Checkpoint.save(model, to: path)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let target = makeModel(Float.self, seed: 2)
        let before = bitPatterns(target)
        // Every 7th length keeps the test fast; the format tests cover every length.
        for length in stride(from: 0, to: bytes.count, by: 7) {
            try Data(bytes[..<length]).write(to: URL(fileURLWithPath: path))
            #expect(throws: CheckpointError.self, "length \(length)") {
                try Checkpoint.load(into: target, from: path)
            }
        }
        #expect(bitPatterns(target) == before)
    }

    @Test("reserved metadata keys are rejected")
    func reservedMetadata() async {
        await #expect(processExitsWith: .failure) {
            _ = Checkpoint.contents(of: Linear<Float>(weight: Tensor(zeros: [1, 1]), bias: nil), metadata: ["optimizer/x": "1"])
        }
    }

    @Test("save removes temporary files of dead writers")
    func staleTemporaryFiles() throws {
        let folder = try makeTemporaryFolder()
        // Process ids above the kernel's pid_max (at most 2^22) never exist; pid 1 always does.
        let stale = ".model.safetensors.2147483000.1f.tmp"
        let live = ".model.safetensors.1.2a.tmp"
        let otherTarget = ".other.safetensors.2147483000.3b.tmp"
        for name in [stale, live, otherTarget] {
            #expect(FileManager.default.createFile(atPath: folder + "/" + name, contents: Data([1, 2, 3])))
        }
        try Checkpoint.save(makeModel(Float.self, seed: 1), to: folder + "/model.safetensors")
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: folder))
        #expect(!names.contains(stale))
        #expect(names.contains(live))
        #expect(names.contains(otherTarget))
        #expect(names.contains("model.safetensors"))
    }
}
