import Foundation

/// Settings of an MNIST training run, with the defaults of torchdiffeq's `odenet_mnist.py`
/// (the experiment behind Table 1 of Chen et al., "Neural Ordinary Differential Equations",
/// NeurIPS 2018): SGD with momentum 0.9, batch 128, learning rate 0.1 · batch / 128 divided
/// by 10 at epochs 60, 100 and 140, 160 epochs, random 28×28 crops of the images padded by 4,
/// pixels scaled to [0, 1] without standardisation, test batches of 1000.
public struct MNISTConfiguration: Sendable, Equatable {
    public var model: MNISTModelKind = .odenet
    /// The folder with the four MNIST files.
    public var dataPath = ""
    /// The folder of the checkpoint, the logs and the results.
    public var checkpointDirectory = "runs/mnist"
    /// Continue the run whose checkpoint is in `checkpointDirectory`.
    public var resume = false

    public var epochs = 160
    public var batchSize = 128
    public var testBatchSize = 1000
    /// The learning rate for a batch of 128; the rate used is `baseLearningRate · batchSize / 128`.
    public var baseLearningRate = 0.1
    /// Epochs (counted from 0) at which the learning rate is multiplied by `decayFactor`.
    public var decayEpochs = [60, 100, 140]
    public var decayFactor = 0.1
    public var momentum = 0.9
    /// Random crops of the training images after zero padding by 4 pixels.
    public var augmentation = true
    public var solver = MNISTSolverSettings()
    /// Channels of every hidden layer; 64 in the reference, smaller for quick tests.
    public var channels = 64
    /// Seed of the initial weights, the data order and the crops.
    public var seed: UInt64 = 0
    /// Train on the first `trainLimit` training images only (smoke runs); nil uses all.
    public var trainLimit: Int?
    /// Evaluate on the first `testLimit` test images only; nil uses all.
    public var testLimit: Int?

    public init() {}

    /// The learning rate at the start: `baseLearningRate · batchSize / 128`.
    public var initialLearningRate: Double { baseLearningRate * Double(batchSize) / 128 }

    /// Checks the values that do not depend on the data.
    ///
    /// - Throws: `MNISTExperimentError.invalidConfiguration` naming the value and its valid range.
    public func validate() throws(MNISTExperimentError) {
        func check(_ condition: Bool, _ message: String) throws(MNISTExperimentError) {
            if !condition { throw .invalidConfiguration(message) }
        }
        try check(epochs >= 1, "epochs is \(epochs); it must be at least 1")
        try check(batchSize >= 1, "batch size is \(batchSize); it must be at least 1")
        try check(testBatchSize >= 1, "test batch size is \(testBatchSize); it must be at least 1")
        try check(
            baseLearningRate > 0 && baseLearningRate.isFinite,
            "learning rate is \(baseLearningRate); it must be a finite number above 0")
        try check(
            decayFactor > 0 && decayFactor <= 1,
            "decay factor is \(decayFactor) (--decay-factor); it must be in (0, 1], because each decay multiplies "
                + "the learning rate by it, such as 0.1")
        try check(
            initialLearningRate > 0 && initialLearningRate.isFinite,
            "the learning rate for batch \(batchSize) is \(baseLearningRate) × \(batchSize) / 128 = \(initialLearningRate) "
                + "(--learning-rate × --batch-size / 128); it must be a finite number above 0, so lower --learning-rate")
        let finalLearningRate = decayEpochs.reduce(initialLearningRate) { rate, _ in rate * decayFactor }
        try check(
            finalLearningRate > 0,
            "the learning rate after the \(decayEpochs.count) decays at epochs \(decayEpochs) underflows to 0 "
                + "(\(initialLearningRate) × \(decayFactor)^\(decayEpochs.count)); raise --decay-factor or list fewer --decay-epochs")
        try check(
            momentum >= 0 && momentum < 1, "momentum is \(momentum); it must be in [0, 1)")
        try check(
            decayEpochs == decayEpochs.sorted() && Set(decayEpochs).count == decayEpochs.count
                && decayEpochs.allSatisfy { $0 > 0 },
            "decay epochs \(decayEpochs) must be positive and strictly increasing, such as 60,100,140")
        try check(
            solver.tolerance > 0 && solver.tolerance < 1,
            "solver tolerance is \(solver.tolerance); it must be in (0, 1), such as 1e-3")
        try check(solver.rk4Steps >= 1, "rk4 steps is \(solver.rk4Steps); it must be at least 1")
        try check(
            channels >= 1 && channels % min(32, channels) == 0,
            "channels is \(channels); it must be positive and, above 32, a multiple of 32")
        if let trainLimit {
            try check(trainLimit >= 1, "train limit is \(trainLimit); it must be at least 1")
        }
        if let testLimit {
            try check(testLimit >= 1, "test limit is \(testLimit); it must be at least 1")
        }
        try check(!dataPath.isEmpty, "no data folder given; pass the folder of the four MNIST files")
    }

    /// The settings that fix the sequence of training steps, stored in checkpoints so that a
    /// resumed run can be checked against them. `epochs` is not among them: a resumed run may
    /// train for more epochs.
    var reproducibilityRecord: [String: String] {
        [
            "model": model.rawValue,
            "batch_size": "\(batchSize)",
            "learning_rate": "\(baseLearningRate)",
            "decay_epochs": decayEpochs.map(String.init).joined(separator: ","),
            "decay_factor": "\(decayFactor)",
            "momentum": "\(momentum)",
            "augmentation": "\(augmentation)",
            "solver": solver.method.rawValue,
            "tolerance": "\(solver.tolerance)",
            "rk4_steps": "\(solver.rk4Steps)",
            "adjoint_seminorm": "\(solver.adjointSeminorm)",
            "channels": "\(channels)",
            "seed": "\(seed)",
            "train_limit": trainLimit.map { "\($0)" } ?? "all",
        ]
    }

    /// The option that sets each entry of `reproducibilityRecord`, for error messages.
    static let optionNames: [String: String] = [
        "model": "--model", "batch_size": "--batch-size", "learning_rate": "--learning-rate",
        "decay_epochs": "--decay-epochs", "decay_factor": "--decay-factor", "momentum": "--momentum",
        "augmentation": "--no-augmentation", "solver": "--solver", "tolerance": "--tol",
        "rk4_steps": "--rk4-steps", "adjoint_seminorm": "--no-seminorm", "channels": "--channels",
        "seed": "--seed", "train_limit": "--limit-train",
    ]

    /// A one-line summary of every setting, printed before training.
    public var summary: String {
        var parts = [
            "model=\(model.rawValue)", "data=\(dataPath)", "checkpoint-dir=\(checkpointDirectory)",
            "resume=\(resume)", "epochs=\(epochs)", "batch=\(batchSize)", "test-batch=\(testBatchSize)",
            "lr=\(initialLearningRate) (\(baseLearningRate) x \(batchSize)/128)",
            "decay=x\(decayFactor) at \(decayEpochs.map(String.init).joined(separator: ","))",
            "momentum=\(momentum)", "augmentation=\(augmentation ? "random-crop(4)" : "none")",
            "channels=\(channels)", "seed=\(seed)",
            "train-limit=\(trainLimit.map { "\($0)" } ?? "all")",
            "test-limit=\(testLimit.map { "\($0)" } ?? "all")",
        ]
        if model.hasODEBlock {
            let gradient = model == .odenet ? "adjoint" + (solver.adjointSeminorm ? "(seminorm)" : "") : "backprop"
            let solverText =
                solver.method == .dopri5
                ? "dopri5 rtol=atol=\(solver.tolerance)" : "rk4 steps=\(solver.rk4Steps)"
            parts.insert(contentsOf: ["solver=\(solverText)", "gradient=\(gradient)"], at: 1)
        }
        return parts.joined(separator: " ")
    }
}
