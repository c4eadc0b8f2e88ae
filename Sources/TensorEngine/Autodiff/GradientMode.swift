#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether operations on tensors that require gradients are recorded, per thread.
///
/// Recording is on by default. `withoutGradients` turns it off for evaluation and for solver
/// internals; `gradients(of:…, createGraph: false)` also runs the pullbacks with it off.
public enum GradientMode {
    // The key stores a non-nil value while recording is off, so a new thread starts recording.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        let status = pthread_key_create(&key, nil)
        precondition(status == 0, "GradientMode: pthread_key_create failed with status \(status)")
        return key
    }()

    private static var offMarker: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: 1) }

    /// True when operations are recorded on this thread.
    public static var isEnabled: Bool {
        get { pthread_getspecific(key) == nil }
        set { pthread_setspecific(key, newValue ? nil : offMarker) }
    }
}

/// Runs `body` with recording off on this thread, then restores the previous mode.
@discardableResult
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    let previous = GradientMode.isEnabled
    GradientMode.isEnabled = false
    defer { GradientMode.isEnabled = previous }
    return try body()
}

/// Runs `body` with recording on or off on this thread, then restores the previous mode.
@discardableResult
public func withGradientMode<R>(enabled: Bool, _ body: () throws -> R) rethrows -> R {
    let previous = GradientMode.isEnabled
    GradientMode.isEnabled = enabled
    defer { GradientMode.isEnabled = previous }
    return try body()
}
