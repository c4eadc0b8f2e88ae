import Foundation

/// The figures of one training run, in the columns of Table 1 of Chen et al. (2018).
public struct MNISTRunResult: Sendable, Equatable {
    public var model: MNISTModelKind
    public var epochs: Int
    /// Fraction of the test images misclassified after the last epoch.
    public var testError: Double
    public var parameterCount: Int
    /// The largest peak resident memory (VmHWM) of the process during an epoch's training
    /// steps, in bytes; see `MNISTEpochRecord.peakMemoryBytes`.
    public var peakMemoryBytes: Int
    /// Mean wall time of an epoch's training steps, without the test evaluation.
    public var secondsPerEpoch: Double
    public var secondsPerBatch: Double
    public var meanForwardEvaluations: Double
    public var meanBackwardEvaluations: Double

    public init(
        model: MNISTModelKind, epochs: Int, testError: Double, parameterCount: Int, peakMemoryBytes: Int,
        secondsPerEpoch: Double, secondsPerBatch: Double, meanForwardEvaluations: Double,
        meanBackwardEvaluations: Double
    ) {
        self.model = model
        self.epochs = epochs
        self.testError = testError
        self.parameterCount = parameterCount
        self.peakMemoryBytes = peakMemoryBytes
        self.secondsPerEpoch = secondsPerEpoch
        self.secondsPerBatch = secondsPerBatch
        self.meanForwardEvaluations = meanForwardEvaluations
        self.meanBackwardEvaluations = meanBackwardEvaluations
    }
}

/// Table 1 of Chen et al., "Neural Ordinary Differential Equations" (NeurIPS 2018), and the
/// files that put a run beside it.
public enum MNISTResultsTable {
    /// One row of the published table.
    public struct PublishedRow: Sendable {
        public let model: MNISTModelKind
        /// Test error in percent.
        public let testErrorPercent: Double
        /// Parameter count in millions, as printed.
        public let parametersMillions: Double
        public let memory: String
        public let time: String
    }

    /// The ResNet, RK-Net and ODE-Net rows of Table 1. `L` is the number of layers of the
    /// ResNet and `L̃` the number of function evaluations of the solver.
    public static let published: [PublishedRow] = [
        PublishedRow(model: .resnet, testErrorPercent: 0.41, parametersMillions: 0.60, memory: "O(L)", time: "O(L)"),
        PublishedRow(model: .rknet, testErrorPercent: 0.47, parametersMillions: 0.22, memory: "O(L̃)", time: "O(L̃)"),
        PublishedRow(model: .odenet, testErrorPercent: 0.42, parametersMillions: 0.22, memory: "O(1)", time: "O(L̃)"),
    ]

    /// Returns a CSV with the published rows and then one row per run.
    public static func csv(_ results: [MNISTRunResult]) -> String {
        var lines = [
            "source,model,epochs,test_error_percent,parameters,memory,peak_memory_mb,seconds_per_epoch,"
                + "seconds_per_batch,mean_nfe_forward,mean_nfe_backward"
        ]
        for row in published {
            lines.append(
                "Chen et al. 2018,\(row.model.displayName),160,\(row.testErrorPercent),"
                    + "\(Int((row.parametersMillions * 1e6).rounded())),\(row.memory),,,,,")
        }
        for result in results {
            lines.append(
                "this run,\(result.model.displayName),\(result.epochs),\(result.testError * 100),"
                    + "\(result.parameterCount),measured,\(megabytes(result.peakMemoryBytes)),"
                    + "\(result.secondsPerEpoch),\(result.secondsPerBatch),\(result.meanForwardEvaluations),"
                    + "\(result.meanBackwardEvaluations)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Returns a Markdown table with the published rows and then one row per run.
    public static func markdown(_ results: [MNISTRunResult]) -> String {
        var lines = [
            "| Source | Model | Epochs | Test error | Parameters | Memory | Time per epoch | NFE forward / backward |",
            "| --- | --- | ---: | ---: | ---: | --- | ---: | ---: |",
        ]
        for row in published {
            lines.append(
                "| Chen et al. (2018), Table 1 | \(row.model.displayName) | 160 | \(decimal(row.testErrorPercent, 2))% "
                    + "| \(decimal(row.parametersMillions, 2))M | \(row.memory) | \(row.time) | |")
        }
        for result in results {
            let evaluations =
                result.model.hasODEBlock
                ? "\(decimal(result.meanForwardEvaluations, 1)) / \(decimal(result.meanBackwardEvaluations, 1))" : ""
            lines.append(
                "| this run | \(result.model.displayName) | \(result.epochs) | \(decimal(result.testError * 100, 2))% "
                    + "| \(decimal(Double(result.parameterCount) / 1e6, 3))M (\(result.parameterCount)) "
                    + "| \(megabytes(result.peakMemoryBytes)) MB peak | \(decimal(result.secondsPerEpoch, 1)) s "
                    + "| \(evaluations) |")
        }
        lines.append("")
        lines.append(
            "Memory is the peak resident size of the whole process (VmHWM) during the training steps, "
                + "data included; time per epoch excludes the test evaluation.")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes `results.csv` and `results.md` into `directory`, each atomically.
    public static func write(_ results: [MNISTRunResult], to directory: String) throws -> [String] {
        let folder = URL(fileURLWithPath: directory)
        let csvURL = folder.appendingPathComponent("results.csv")
        let markdownURL = folder.appendingPathComponent("results.md")
        do {
            try AtomicFile.write(csv(results), to: csvURL)
            try AtomicFile.write(markdown(results), to: markdownURL)
        } catch {
            throw MNISTExperimentError.file(path: directory, reason: "the results could not be written: \(error)")
        }
        return [csvURL.path, markdownURL.path]
    }

    static func megabytes(_ bytes: Int) -> String {
        decimal(Double(bytes) / 1_048_576, 1)
    }
}

/// Formats a number with a fixed count of decimals.
func decimal(_ value: Double, _ decimals: Int) -> String {
    String(format: "%.\(decimals)f", value)
}

/// Memory figures of the running process, from Linux's `/proc/self/status`.
public enum ProcessMemory {
    /// Resets the peak resident set size to the current one by writing 5 to
    /// `/proc/self/clear_refs` (Linux 4.0 and later); returns false where that fails.
    @discardableResult
    public static func resetPeakResidentBytes() -> Bool {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("5".utf8))
            return true
        } catch {
            return false
        }
    }

    /// Returns the peak resident set size (`VmHWM`) in bytes, or nil where `/proc` is unavailable.
    public static func peakResidentBytes() -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else {
            return nil
        }
        for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            // The line reads "VmHWM:    123456 kB".
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, let kilobytes = Int(fields[1]) else { return nil }
            return kilobytes * 1024
        }
        return nil
    }
}
