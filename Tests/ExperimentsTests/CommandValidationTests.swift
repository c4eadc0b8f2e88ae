import Foundation
import Testing

/// Runs the `neuralode` executable that the build put next to the test bundle, and returns its
/// exit status, standard output and standard error. The command tests of this target share it.
func runNeuralODE(_ arguments: [String]) throws -> (status: Int32, output: String, standardError: String) {
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    let executable = folder.appendingPathComponent("neuralode")
    try #require(
        FileManager.default.isExecutableFile(atPath: executable.path),
        "no neuralode executable at \(executable.path); build it with 'swift build --build-tests' before 'swift test --skip-build'")
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let outputFile = FileManager.default.temporaryDirectory.appendingPathComponent("neuralode-out-\(UUID().uuidString)")
    _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: outputFile) }
    process.standardOutput = try FileHandle(forWritingTo: outputFile)
    let errorPipe = Pipe()
    process.standardError = errorPipe
    try process.run()
    let data = errorPipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    let output = (try? String(contentsOf: outputFile, encoding: .utf8)) ?? ""
    return (process.terminationStatus, output, String(decoding: data, as: UTF8.self))
}

@Suite("neuralode argument validation")
struct CommandValidationTests {
    /// Arguments that every command must reject before any work, with status 64, and a part of
    /// the message each must print.
    static let cases: [([String], String)] = [
        (["demo", "extra", "--iterations", "1"], "unexpected argument 'extra'"),
        (["demo", "--output", "--quiet"], "missing value for '--output' (expected DIR) before '--quiet'"),
        (["demo", "--rtol", "1e-9"], "invalid value '1e-9' for '--rtol': this model computes in Float"),
        (["cnf", "fit", "--rtol", "1e-300", "--atol", "1e-300"], "a relative tolerance below 1e-8 cannot be met"),
        (["cnf", "fit", "--width", "100000", "--hidden", "100000"], "above --memory-limit 8.0 GiB"),
        (["cnf", "fit", "--batch-size", "10000000"], "raise --memory-limit if the machine has the memory"),
        (["cnf", "match", "--targets", "u1,u1"], "'u1' is listed twice"),
        (["cnf", "match", "--targets", "u1,,u2"], "it contains an empty item"),
        (["latent", "table2", "--models", "rnn,rnn"], "'rnn' is listed twice"),
        (["latent", "table2", "--models", ","], "an empty item is not one of latentode, rnn, rnn-gap"),
        (["latent", "table2", "--observation-counts", "30,30"], "expected distinct counts"),
        (["latent", "poisson", "--data", "unused.csv"], "option '--data' does not apply to 'latent poisson'"),
        (["latent", "train", "--data", "unused.csv", "--observations", "100"],
         "option '--observations' does not apply with --data"),
        (["latent", "train", "--models", "rnn"], "option '--models' does not apply to 'latent train'"),
        (["latent", "train", "--rtol", "1e-10"], "whose machine epsilon is 1.19e-7"),
        (["mnist", "--data", "/unused", "--decay-factor", "5"], "decay factor is 5.0 (--decay-factor); it must be in (0, 1]"),
        (["mnist", "--data", "/unused", "--batch-size", "256", "--learning-rate", "1e308"],
         "is 1e+308 × 256 / 128 = inf (--learning-rate × --batch-size / 128)"),
        (["mnist", "--data", "/unused", "--decay-epochs", ",,"], "invalid value ',,' for '--decay-epochs'"),
        (["mnist", "--data", "/unused", "--decay-epochs", "60,,100"], "invalid value '60,,100' for '--decay-epochs'"),
        (["mnist", "--data", "/unused", "--batch-size", "60000"],
         "(--batch-size 60000, --test-batch-size 1000, --channels 64), above --memory-limit 8.0 GiB"),
        (["mnist", "--data", "/unused", "--channels", "4096", "--memory-limit", "1"], "above --memory-limit 1.0 GiB"),
        (["latent", "train", "--batch-size", "10000000"], "(--batch-size 10000000, --spirals 1000"),
        (["mnist", "--data", "/unused", "--tol", "1e-9"], "invalid value '1e-9' for '--tol': this model computes in Float"),
        (["mnist", "figure3", "--checkpoint", "/unused", "--data", "/unused", "--tolerances", "1e-3,1e-12"],
         "invalid value '1e-3,1e-12' for '--tolerances': expected comma-separated numbers in [1e-8, 1)"),
        // A negative number is still read as a value, and then rejected by its range.
        (["mnist", "--data", "/unused", "--epochs", "-1"], "invalid value '-1' for '--epochs'"),
    ]

    @Test("invalid arguments exit with status 64", arguments: cases)
    func invalidArguments(arguments: [String], message: String) throws {
        let (status, _, standardError) = try runNeuralODE(arguments)
        #expect(status == 64)
        #expect(standardError.contains(message), "standard error: \(standardError)")
    }

    @Test("value after '=' may start with dashes")
    func inlineValueWithDashes() throws {
        // `--output=--x` is explicit, so it is not a missing value; the run then stops at the
        // extra argument, before creating any folder.
        let (status, _, standardError) = try runNeuralODE(["demo", "--output=--x", "extra"])
        #expect(status == 64)
        #expect(standardError.contains("unexpected argument 'extra'"), "standard error: \(standardError)")
        #expect(!FileManager.default.fileExists(atPath: "--x"))
    }

    @Test("file as output folder fails before training", arguments: [
        ["demo", "--iterations", "1", "--output"],
        ["cnf", "fit", "--iterations", "1", "--output"],
        ["latent", "train", "--iterations", "1", "--spirals", "4", "--test-spirals", "2", "--output"],
        ["mnist", "--data", "/unused", "--checkpoint-dir"],
    ])
    func fileAsOutputFolder(arguments: [String]) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("not-a-folder-\(UUID().uuidString)")
        try Data("x".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output, standardError) = try runNeuralODE(arguments + [file.path])
        #expect(status == 1)
        let option = arguments.last!
        #expect(
            standardError.contains("error: cannot write \(file.path): a file exists where a folder is expected; choose another \(option)"),
            "standard error: \(standardError)")
        #expect(!output.contains("iter"), "training started: \(output)")
    }

    @Test("cnf fit resume keeps losses and rejects fewer iterations")
    func cnfResume() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("cnf-resume-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let small = [
            "cnf", "fit", "--width", "4", "--hidden", "4", "--batch-size", "16", "--test-size", "16",
            "--end-time", "0.5", "--rtol", "1e-3", "--atol", "1e-3", "--evaluate-every", "1",
            "--checkpoint-every", "1", "--quiet", "--output", folder.path,
        ]
        let first = try runNeuralODE(small + ["--iterations", "2"])
        #expect(first.status == 0, "standard error: \(first.standardError)")

        let shorter = try runNeuralODE(small + ["--iterations", "1", "--resume"])
        #expect(shorter.status == 64)
        #expect(
            shorter.standardError.contains("has completed 2 iterations, more than --iterations 1"),
            "standard error: \(shorter.standardError)")

        let longer = try runNeuralODE(small + ["--iterations", "3", "--resume"])
        #expect(longer.status == 0, "standard error: \(longer.standardError)")
        let text = try String(contentsOf: folder.appendingPathComponent("losses.csv"), encoding: .utf8)
        let iterations = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",")[2] }
        #expect(iterations == ["1", "2", "3"])
    }
}
