import Foundation

/// One training step, as logged to `batches.csv`.
public struct MNISTBatchRecord: Sendable, Equatable {
    /// Epoch, from 1.
    public var epoch: Int
    /// Batch within the epoch, from 1.
    public var batch: Int
    /// Mean cross-entropy of the batch.
    public var loss: Double
    /// Fraction of the batch classified correctly, before the update.
    public var accuracy: Double
    /// Evaluations of the ODE dynamics in the forward solve; 0 for the ResNet.
    public var forwardEvaluations: Int
    /// Evaluations of the augmented dynamics in the adjoint's backward solve; 0 for the ResNet
    /// and the RK-Net, whose backward pass runs through the recorded operations instead.
    public var backwardEvaluations: Int
    /// Wall time of the forward pass, in seconds.
    public var forwardSeconds: Double
    /// Wall time of the whole step (forward, backward and update), in seconds.
    public var seconds: Double
    public var learningRate: Double

    public init(
        epoch: Int, batch: Int, loss: Double, accuracy: Double, forwardEvaluations: Int,
        backwardEvaluations: Int, forwardSeconds: Double, seconds: Double, learningRate: Double
    ) {
        self.epoch = epoch
        self.batch = batch
        self.loss = loss
        self.accuracy = accuracy
        self.forwardEvaluations = forwardEvaluations
        self.backwardEvaluations = backwardEvaluations
        self.forwardSeconds = forwardSeconds
        self.seconds = seconds
        self.learningRate = learningRate
    }

    static let csvHeader =
        "epoch,batch,loss,accuracy,nfe_forward,nfe_backward,forward_seconds,seconds,learning_rate"

    var csvRow: String {
        "\(epoch),\(batch),\(loss),\(accuracy),\(forwardEvaluations),\(backwardEvaluations),"
            + "\(forwardSeconds),\(seconds),\(learningRate)"
    }

    init?(csvRow: Substring) {
        let fields = csvRow.split(separator: ",", omittingEmptySubsequences: false)
        guard fields.count == 9,
            let epoch = Int(fields[0]), let batch = Int(fields[1]), let loss = Double(fields[2]),
            let accuracy = Double(fields[3]), let forward = Int(fields[4]), let backward = Int(fields[5]),
            let forwardSeconds = Double(fields[6]), let seconds = Double(fields[7]),
            let learningRate = Double(fields[8])
        else { return nil }
        self.init(
            epoch: epoch, batch: batch, loss: loss, accuracy: accuracy, forwardEvaluations: forward,
            backwardEvaluations: backward, forwardSeconds: forwardSeconds, seconds: seconds,
            learningRate: learningRate)
    }
}

/// One epoch, as logged to `epochs.csv`.
public struct MNISTEpochRecord: Sendable, Equatable {
    /// Epoch, from 1.
    public var epoch: Int
    /// Mean batch loss over the epoch.
    public var trainLoss: Double
    /// Mean batch accuracy over the epoch, measured before each update.
    public var trainAccuracy: Double
    /// Fraction of the test images misclassified after the epoch.
    public var testError: Double
    /// Mean cross-entropy on the test images after the epoch.
    public var testLoss: Double
    /// Mean forward evaluations of the ODE dynamics per batch.
    public var meanForwardEvaluations: Double
    /// Mean backward evaluations of the adjoint per batch.
    public var meanBackwardEvaluations: Double
    /// Wall time of the training steps of the epoch, in seconds.
    public var trainSeconds: Double
    /// Wall time of the evaluation on the test images, in seconds.
    public var testSeconds: Double
    public var learningRate: Double
    /// The process's peak resident memory (VmHWM) during the epoch's training steps, in bytes:
    /// the peak is reset before the first step where Linux allows it, so that the larger
    /// batches of the test evaluation do not count.
    public var peakMemoryBytes: Int

    public init(
        epoch: Int, trainLoss: Double, trainAccuracy: Double, testError: Double, testLoss: Double,
        meanForwardEvaluations: Double, meanBackwardEvaluations: Double, trainSeconds: Double,
        testSeconds: Double, learningRate: Double, peakMemoryBytes: Int
    ) {
        self.epoch = epoch
        self.trainLoss = trainLoss
        self.trainAccuracy = trainAccuracy
        self.testError = testError
        self.testLoss = testLoss
        self.meanForwardEvaluations = meanForwardEvaluations
        self.meanBackwardEvaluations = meanBackwardEvaluations
        self.trainSeconds = trainSeconds
        self.testSeconds = testSeconds
        self.learningRate = learningRate
        self.peakMemoryBytes = peakMemoryBytes
    }

    static let csvHeader =
        "epoch,train_loss,train_accuracy,test_error,test_loss,mean_nfe_forward,mean_nfe_backward,"
        + "train_seconds,test_seconds,learning_rate,peak_memory_bytes"

    var csvRow: String {
        "\(epoch),\(trainLoss),\(trainAccuracy),\(testError),\(testLoss),\(meanForwardEvaluations),"
            + "\(meanBackwardEvaluations),\(trainSeconds),\(testSeconds),\(learningRate),\(peakMemoryBytes)"
    }

    init?(csvRow: Substring) {
        let fields = csvRow.split(separator: ",", omittingEmptySubsequences: false)
        let numbers = fields.map { Double($0) }
        guard fields.count == 11, let epoch = Int(fields[0]), let peakMemory = Int(fields[10]),
            numbers.allSatisfy({ $0 != nil })
        else {
            return nil
        }
        self.init(
            epoch: epoch, trainLoss: numbers[1]!, trainAccuracy: numbers[2]!, testError: numbers[3]!,
            testLoss: numbers[4]!, meanForwardEvaluations: numbers[5]!, meanBackwardEvaluations: numbers[6]!,
            trainSeconds: numbers[7]!, testSeconds: numbers[8]!, learningRate: numbers[9]!,
            peakMemoryBytes: peakMemory)
    }
}

/// Reading and writing the CSV logs of a run.
enum MNISTLogFile {
    /// Returns the CSV text of `rows` under `header`.
    static func csv(header: String, rows: [String]) -> String {
        ([header] + rows).joined(separator: "\n") + "\n"
    }

    /// Parses a CSV log written by `csv(header:rows:)`.
    ///
    /// - Throws: `MNISTExperimentError.file` naming the file and the first bad line.
    static func parse<Record>(
        _ path: String, header: String, row: (Substring) -> Record?
    ) throws(MNISTExperimentError) -> [Record] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .file(path: path, reason: "cannot be read (\(error.localizedDescription))")
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true)
        guard let first = lines.first, first == header else {
            throw .file(
                path: path, reason: "does not start with the header '\(header)'; it is not a log of this program")
        }
        var records: [Record] = []
        for (offset, line) in lines.dropFirst().enumerated() {
            guard let record = row(line) else {
                throw .file(path: path, reason: "line \(offset + 2) is not a valid row: '\(line.prefix(120))'")
            }
            records.append(record)
        }
        return records
    }
}
