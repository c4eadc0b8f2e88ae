import Foundation

/// A small pool of aligned buffers that kernels borrow for intermediate results, such as the
/// column matrix of a convolution, so that repeated calls of one shape allocate nothing.
///
/// Buffers are lent to one caller at a time, so concurrent kernels on other threads get other
/// buffers. The pool keeps at most `maximumCachedBuffers` returned buffers, and frees the
/// smallest beyond that; buffers larger than `maximumCachedByteCount` are freed on return.
final class ScratchMemory: @unchecked Sendable {
    static let shared = ScratchMemory()

    static let maximumCachedBuffers = 4
    static let maximumCachedByteCount = 64 << 20

    private let lock = NSLock()
    /// Returned buffers with their capacity in bytes; guarded by `lock`.
    private var cached: [(pointer: UnsafeMutableRawPointer, byteCount: Int)] = []

    /// Calls `body` with an uninitialised buffer of at least `count` values of type `T`.
    static func withBuffer<T, R>(
        of type: T.Type, count: Int, _ body: (UnsafeMutablePointer<T>) throws -> R
    ) rethrows -> R {
        let byteCount = Swift.max(1, count) * MemoryLayout<T>.stride
        let buffer = shared.take(byteCount: byteCount)
        defer { shared.giveBack(buffer) }
        return try body(buffer.pointer.bindMemory(to: T.self, capacity: Swift.max(1, count)))
    }

    private func take(byteCount: Int) -> (pointer: UnsafeMutableRawPointer, byteCount: Int) {
        lock.lock()
        // The smallest cached buffer that is large enough.
        var chosen: Int?
        for (index, buffer) in cached.enumerated() where buffer.byteCount >= byteCount {
            if chosen == nil || buffer.byteCount < cached[chosen!].byteCount { chosen = index }
        }
        if let chosen {
            let buffer = cached.remove(at: chosen)
            lock.unlock()
            return buffer
        }
        lock.unlock()
        let pointer = UnsafeMutableRawPointer.allocate(
            byteCount: byteCount, alignment: TensorMemory.alignment)
        return (pointer, byteCount)
    }

    private func giveBack(_ buffer: (pointer: UnsafeMutableRawPointer, byteCount: Int)) {
        if buffer.byteCount > ScratchMemory.maximumCachedByteCount {
            buffer.pointer.deallocate()
            return
        }
        lock.lock()
        cached.append(buffer)
        var evicted: UnsafeMutableRawPointer?
        if cached.count > ScratchMemory.maximumCachedBuffers {
            let smallest = cached.indices.min { cached[$0].byteCount < cached[$1].byteCount }!
            evicted = cached.remove(at: smallest).pointer
        }
        lock.unlock()
        evicted?.deallocate()
    }
}
