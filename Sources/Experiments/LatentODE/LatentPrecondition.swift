/// Stops the program with `message` unless `condition` holds, in every build configuration.
///
/// The standard library's `precondition` drops its message in optimised builds, and a user of
/// a release build needs the message to fix the call. This module has no module-wide
/// replacement, so the latent experiment uses its own.
@inline(__always)
func latentPrecondition(
    _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
    file: StaticString = #file, line: UInt = #line
) {
    if !condition() { fatalError(message(), file: file, line: line) }
}
