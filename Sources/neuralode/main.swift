import Foundation
import TensorEngine

/// A subcommand, captured from its `Command` type.
struct CommandEntry {
    let name: String
    let summary: String
    let usage: String
    let options: [OptionSpecification]
    let run: (ParsedOptions) throws -> Void

    init<C: Command>(_ command: C.Type) {
        name = C.name
        summary = C.summary
        usage = C.usage
        options = C.options
        run = C.run
    }
}

/// The subcommands, in the order help lists them.
let commands = [CommandEntry(DemoCommand.self), CommandEntry(MNISTCommand.self), CommandEntry(LatentCommand.self), CommandEntry(CNFCommand.self)]

@MainActor
func printHelp() {
    var lines = ["usage: neuralode <command> [options]", "", "commands:"]
    for command in commands {
        lines.append("  \(command.name.padding(toLength: 10, withPad: " ", startingAt: 0))\(command.summary.prefix(100))…")
    }
    lines.append("")
    lines.append("Run 'neuralode <command> --help' for the options of a command.")
    print(lines.joined(separator: "\n"))
}

// oneDNN's OpenMP threads spin while idle unless OMP_WAIT_POLICY is set to passive, which made
// MNIST training 11 times slower while other processes used both cores. libgomp reads the
// variable when the process starts, so it is set here and the program starts again, once.
// When the restart fails, the run goes on with OpenMP's default.
if getenv("OMP_WAIT_POLICY") == nil {
    setenv("OMP_WAIT_POLICY", "passive", 1)
    execv("/proc/self/exe", CommandLine.unsafeArgv)
}

let environmentProblems = EngineEnvironment.environmentProblems()
guard environmentProblems.isEmpty else {
    printError(environmentProblems.map { "error: \($0.message)" }.joined(separator: "\n"))
    exit(64)
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let commandName = arguments.first, !["help", "--help", "-h"].contains(commandName) else {
    printHelp()
    exit(arguments.isEmpty ? 64 : 0)
}
guard let command = commands.first(where: { $0.name == commandName }) else {
    printError("error: unknown command '\(commandName)'; valid commands: \(commands.map(\.name).joined(separator: ", "))")
    exit(64)
}
let commandArguments = Array(arguments.dropFirst())
if commandArguments.contains("--help") || commandArguments.contains("-h") {
    print(command.usage)
    exit(0)
}
do {
    let options = try ParsedOptions(commandArguments, specification: command.options)
    try command.run(options)
} catch let error as CommandLineError {
    // The usage comes first so that the error stays in view at the end of the output.
    printError("\(command.usage)\n\nerror: \(error.description)")
    exit(64)
} catch {
    printError("error: \(error)")
    exit(1)
}
