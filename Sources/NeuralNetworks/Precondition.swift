/// Stops the program with `message` unless `condition` holds.
///
/// Shadows the standard library's `precondition` inside this module: that one drops its message
/// in optimised builds, and a user of a release build needs the message to fix the call.
@inline(__always)
func precondition(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String = String(),
    file: StaticString = #file, line: UInt = #line
) {
    if !condition() { fatalError(message(), file: file, line: line) }
}

/// Stops the program with `message`.
///
/// Shadows the standard library's `preconditionFailure` inside this module, for the same
/// reason as `precondition` above: that one drops its message in optimised builds.
@inline(__always)
func preconditionFailure(
    _ message: @autoclosure () -> String = String(), file: StaticString = #file, line: UInt = #line
) -> Never {
    fatalError(message(), file: file, line: line)
}
