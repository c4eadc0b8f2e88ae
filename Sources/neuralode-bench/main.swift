// neuralode-bench: times the tensor engine and the models on Float data with OpenBLAS on two
// threads. It prints a table, or one JSON object per line with the fields of the Python reference
// scripts in Benchmarks/reference, so that rows pair by `name` and `size`.

import COpenBLAS
import TensorEngine

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension BenchmarkArea {
    /// Every area, in the order they run when none is named.
    static let all: [BenchmarkArea] = [
        .ops,
        .mlp,
        .matmul,
        .conv,
        .solver,
        .spiral,
        .cnf,
        .latent,
        .memory,
        .mnist,
    ]
}

/// Threads for OpenBLAS, matching the reference scripts.
let blasThreads = 2

let usage = """
    usage: neuralode-bench [area ...] [--json] [--repeats N] [--quick] [--filter TEXT] [--data PATH]

    Runs the named areas (all when none is named) and prints the median and 90th
    percentile time per call of each benchmark.

    options:
      --json          print one JSON object per line instead of a table
      --repeats N     timed samples per benchmark (default 30, or 7 with --quick)
      --quick         shorter samples and fewer repeats, for a smoke run
      --filter TEXT   run only the benchmarks whose name contains TEXT
      --data PATH     MNIST folder (train-images-idx3-ubyte.gz, ...) for the mnist area,
                      which is skipped without it
      --help          print this message

    areas:
    """

func printUsage() {
    print(usage)
    for area in BenchmarkArea.all {
        let padding = String(repeating: " ", count: Swift.max(1, 10 - area.name.count))
        print("  \(area.name)\(padding)\(area.summary)")
    }
}

func fail(_ message: String) -> Never {
    writeStandardError("error: \(message)\n")
    writeStandardError("Run 'neuralode-bench --help' for the options and areas.\n")
    exit(2)
}

struct Options {
    var areas: [BenchmarkArea] = []
    var json = false
    var quick = false
    var repeats: Int?
    var filter = ""
}

func parseOptions(_ arguments: [String]) -> Options {
    var options = Options()
    var index = 0
    while index < arguments.count {
        let argument = arguments[index]
        index += 1
        switch argument {
        case "--json": options.json = true
        case "--quick": options.quick = true
        case "--help", "-h":
            printUsage()
            exit(0)
        case "--repeats":
            guard index < arguments.count, let count = Int(arguments[index]), count >= 1 else {
                fail("--repeats needs a whole number of at least 1")
            }
            options.repeats = count
            index += 1
        case "--data":
            guard index < arguments.count, !arguments[index].isEmpty else { fail("--data needs the MNIST folder") }
            // The mnist area and its measurement processes read the folder from the environment.
            setenv(mnistDataVariable, arguments[index], 1)
            index += 1
        case "--filter":
            guard index < arguments.count else { fail("--filter needs a text") }
            options.filter = arguments[index]
            index += 1
        default:
            if argument.hasPrefix("-") { fail("unknown option '\(argument)'") }
            guard let area = BenchmarkArea.all.first(where: { $0.name == argument }) else {
                let names = BenchmarkArea.all.map(\.name).joined(separator: ", ")
                fail("unknown area '\(argument)'; the areas are \(names)")
            }
            options.areas.append(area)
        }
    }
    if options.areas.isEmpty { options.areas = BenchmarkArea.all }
    return options
}

for problem in EngineEnvironment.environmentProblems() { fail(problem.message) }
let options = parseOptions(Array(CommandLine.arguments.dropFirst()))

#if DEBUG
writeStandardError("warning: this is a debug build; build with -c release for meaningful times\n")
#endif

openblas_set_num_threads(Int32(blasThreads))
let context = BenchmarkContext(
    quick: options.quick, repeatsOverride: options.repeats, filter: options.filter,
    reporter: Reporter(json: options.json, threads: blasThreads))
for area in options.areas {
    writeStandardError("== \(area.name)\n")
    area.run(context)
}
