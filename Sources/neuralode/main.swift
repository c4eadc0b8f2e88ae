import Foundation

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
