import Experiments
import Foundation

/// An error in the command line, shown to the user with the command's usage.
struct CommandLineError: Error, CustomStringConvertible {
    let description: String
}

/// One option of a command: its name, the placeholder of its value, and its help text.
struct OptionSpecification {
    let name: String
    /// Placeholder shown in help (`N`, `PATH`); `nil` for a flag that takes no value.
    let valueName: String?
    let help: String
    /// Default shown in help, if any.
    let defaultValue: String?

    static func flag(_ name: String, help: String) -> OptionSpecification {
        OptionSpecification(name: name, valueName: nil, help: help, defaultValue: nil)
    }

    static func value(_ name: String, _ valueName: String, help: String, default defaultValue: String? = nil)
        -> OptionSpecification
    {
        OptionSpecification(name: name, valueName: valueName, help: help, defaultValue: defaultValue)
    }
}

/// The options a user passed, checked against a command's specification and read with typed,
/// validated accessors.
struct ParsedOptions {
    private var values: [String: String] = [:]
    private var flags: Set<String> = []
    /// Arguments that are not options, in order.
    private(set) var positional: [String] = []

    /// Parses `--name value`, `--name=value` and `--flag`; rejects unknown options and missing
    /// values, naming them.
    init(_ arguments: [String], specification: [OptionSpecification]) throws {
        let byName = Dictionary(uniqueKeysWithValues: specification.map { ($0.name, $0) })
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--") else {
                positional.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let option = byName[name] else {
                let known = specification.map { "--\($0.name)" }.joined(separator: ", ")
                throw CommandLineError(description: "unknown option '--\(name)'; valid options: \(known)")
            }
            if option.valueName == nil {
                guard inlineValue == nil else {
                    throw CommandLineError(description: "option '--\(name)' takes no value")
                }
                flags.insert(name)
                continue
            }
            if let inlineValue {
                values[name] = inlineValue
            } else if index < arguments.count {
                // A value never starts with "--", so `--output --quiet` is a missing value rather
                // than a folder named "--quiet". Negative numbers such as -1 still parse. A value
                // that must start with "--" can be passed as `--name=value`.
                guard !arguments[index].hasPrefix("--") else {
                    throw CommandLineError(
                        description: "missing value for '--\(name)' (expected \(option.valueName!)) before '\(arguments[index])'; "
                            + "write '--\(name)=\(arguments[index])' if that is the value")
                }
                values[name] = arguments[index]
                index += 1
            } else {
                throw CommandLineError(description: "missing value for '--\(name)' (expected \(option.valueName!))")
            }
        }
    }

    func isSet(_ flag: String) -> Bool { flags.contains(flag) }

    func string(_ name: String) -> String? { values[name] }

    func string(_ name: String, default defaultValue: String) -> String { values[name] ?? defaultValue }

    /// Returns the integer option `name` (`defaultValue` when absent), which must be in `range`.
    func integer(_ name: String, default defaultValue: Int, in range: ClosedRange<Int> = 0...Int.max) throws -> Int {
        guard let text = values[name] else { return defaultValue }
        guard let value = Int(text), range.contains(value) else {
            throw CommandLineError(
                description: "invalid value '\(text)' for '--\(name)': expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    /// Returns the finite number option `name`, which must exceed `minimum` (or equal it, when `inclusive`).
    func double(_ name: String, default defaultValue: Double, above minimum: Double = 0, inclusive: Bool = false)
        throws -> Double
    {
        guard let text = values[name] else { return defaultValue }
        guard let value = Double(text), value.isFinite, inclusive ? value >= minimum : value > minimum else {
            let bound = inclusive ? "at least \(minimum)" : "greater than \(minimum)"
            throw CommandLineError(description: "invalid value '\(text)' for '--\(name)': expected a finite number \(bound)")
        }
        return value
    }

    /// Returns a comma-separated list of non-negative integers, such as epochs of learning-rate decay.
    func integers(_ name: String, default defaultValue: [Int]) throws -> [Int] {
        guard let text = values[name] else { return defaultValue }
        if text.isEmpty { return [] }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.allSatisfy({ $0 != nil && $0! >= 0 }) else {
            throw CommandLineError(description: "invalid value '\(text)' for '--\(name)': expected comma-separated non-negative integers such as 60,100,140")
        }
        return parts.map { $0! }
    }

    /// Returns a comma-separated list of names, each one of `choices` and none repeated.
    func names(_ name: String, default defaultValue: [String], among choices: [String]) throws -> [String] {
        guard let text = values[name] else { return defaultValue }
        let items = text.split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        for item in items where !choices.contains(item) {
            let quotedItem = item.isEmpty ? "an empty item" : "'\(item)'"
            throw CommandLineError(
                description: "invalid value '\(text)' for '--\(name)': \(quotedItem) is not one of \(choices.joined(separator: ", ")); "
                    + "separate the names by single commas")
        }
        var seen: Set<String> = []
        for item in items where !seen.insert(item).inserted {
            throw CommandLineError(
                description: "invalid value '\(text)' for '--\(name)': '\(item)' is listed twice; list each name once")
        }
        return items
    }

    /// Returns a relative tolerance for a solve in Float, which must be at least 1e-8 and below 1.
    ///
    /// Float's machine epsilon is 1.19e-7, so a smaller relative error cannot be met: the solver
    /// would shrink its steps until it hits a step limit, which looks like a hang.
    func floatRelativeTolerance(_ name: String, default defaultValue: Double) throws -> Double {
        let value = try double(name, default: defaultValue)
        guard value >= 1e-8, value < 1 else {
            throw CommandLineError(
                description: "invalid value '\(values[name] ?? "\(value)")' for '--\(name)': this model computes in Float, "
                    + "whose machine epsilon is 1.19e-7, so a relative tolerance below 1e-8 cannot be met; "
                    + "use a value in [1e-8, 1), such as 1e-6")
        }
        return value
    }

    /// Throws unless every option in `names` is absent, naming the first one present and the
    /// `context` in which it does not apply.
    func reject(_ names: [String], because context: String) throws {
        for name in names where values[name] != nil || flags.contains(name) {
            throw CommandLineError(description: "option '--\(name)' does not apply \(context)")
        }
    }

    /// Throws if any positional argument was given, for commands that take none.
    func rejectPositional(usage: String) throws {
        guard positional.isEmpty else {
            throw CommandLineError(
                description: "unexpected argument '\(positional.joined(separator: " "))'; usage: \(usage)")
        }
    }

    /// Returns the option `name`, which must be one of `choices`.
    func choice(_ name: String, default defaultValue: String, among choices: [String]) throws -> String {
        let value = values[name] ?? defaultValue
        guard choices.contains(value) else {
            throw CommandLineError(
                description: "invalid value '\(value)' for '--\(name)': expected one of \(choices.joined(separator: ", "))")
        }
        return value
    }
}

/// A subcommand of the tool.
protocol Command {
    static var name: String { get }
    static var summary: String { get }
    static var options: [OptionSpecification] { get }
    /// The text after the command's name in its usage line: `[options]`, or a mode before them.
    static var synopsis: String { get }
    /// Validates every option and runs; throws `CommandLineError` for bad input before any work.
    static func run(_ options: ParsedOptions) throws
}

extension Command {
    static var synopsis: String { "[options]" }

    static var usage: String {
        var lines = ["usage: neuralode \(name) \(synopsis)", "", summary, "", "options:"]
        let width = options.map { "--\($0.name)" + ($0.valueName.map { " \($0)" } ?? "") }.map(\.count).max() ?? 0
        for option in options {
            let head = "--\(option.name)" + (option.valueName.map { " \($0)" } ?? "")
            let padding = String(repeating: " ", count: width - head.count + 2)
            let defaultText = option.defaultValue.map { " (default: \($0))" } ?? ""
            lines.append("  \(head)\(padding)\(option.help)\(defaultText)")
        }
        return lines.joined(separator: "\n")
    }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// A folder that cannot hold the command's output, found before any training.
struct OutputFolderError: Error, CustomStringConvertible {
    let description: String
}

/// Creates `folder` and checks that files can be written in it, so that a bad `--option`
/// stops the command before training rather than after it.
func prepareOutputFolder(_ folder: URL, option: String) throws {
    do {
        try AtomicFile.prepareFolder(folder)
    } catch {
        throw OutputFolderError(description: "\(error); choose another --\(option)")
    }
}

/// The default of `--memory-limit` in GiB: 8, a budget that a laptop or a shared server can
/// usually give one run, not a measure of any particular machine.
let defaultMemoryLimitGiB = 8.0

/// The `--memory-limit` option, shared by the commands that estimate their memory.
let memoryLimitOption = OptionSpecification.value(
    "memory-limit", "GIB", help: "reject settings whose estimated memory exceeds this many GiB",
    default: "\(defaultMemoryLimitGiB)")

extension ParsedOptions {
    /// Rejects settings whose estimated memory, `bytes`, exceeds `--memory-limit`, before any
    /// allocation. `settings` names the options that drive the estimate, with their values.
    func checkMemoryEstimate(bytes: Double, settings: String) throws {
        let limit = try double("memory-limit", default: defaultMemoryLimitGiB)
        let gib = bytes / 1_073_741_824
        guard gib <= limit else {
            throw CommandLineError(
                description: "the settings need an estimated \(format(gib, 1)) GiB (\(settings)), above --memory-limit "
                    + "\(format(limit, 1)) GiB; lower these options, or raise --memory-limit if the machine has the memory")
        }
    }
}
