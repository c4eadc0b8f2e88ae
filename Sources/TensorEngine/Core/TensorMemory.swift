import Foundation

/// Aligned allocation for tensor values, so that vector kernels and BLAS read aligned data.
///
/// Buffers from 1 KiB to 64 MiB are recycled through `TensorBufferCache`. Fresh memory of 16 KiB
/// and more comes from `mmap` or from a heap top that glibc trims on free. A new tensor would then
/// pay a page fault for every 4 KiB page, which costs more than an elementwise operation on it.
/// From 1 KiB to 16 KiB, above glibc's per-thread caches, `malloc` and `free` search and merge
/// free chunks, which cost more than the cache's lock.
enum TensorMemory {
    static let alignment = 64

    static func allocate<S>(_: S.Type, count: Int) -> UnsafeMutablePointer<S> {
        let bytes = Swift.max(1, count) * MemoryLayout<S>.stride
        let raw: UnsafeMutableRawPointer
        if let sizeClass = TensorBufferCache.sizeClass(forByteCount: bytes) {
            raw = TensorBufferCache.shared.take(sizeClass: sizeClass)
        } else {
            raw = allocateSmall(byteCount: bytes)
        }
        return raw.bindMemory(to: S.self, capacity: Swift.max(1, count))
    }

    static func deallocate<S>(_ pointer: UnsafeMutablePointer<S>, count: Int) {
        let bytes = Swift.max(1, count) * MemoryLayout<S>.stride
        if let sizeClass = TensorBufferCache.sizeClass(forByteCount: bytes) {
            TensorBufferCache.shared.giveBack(UnsafeMutableRawPointer(pointer), sizeClass: sizeClass)
        } else {
            deallocateSmall(UnsafeMutableRawPointer(pointer))
        }
    }

    /// Allocates with `malloc` and rounds the address up to `alignment`, keeping the address
    /// that `malloc` returned in the 8 bytes before the result.
    ///
    /// glibc serves small `malloc` calls from per-thread caches, while its aligned allocation
    /// splits chunks and frees the remainders, which cost more than the rest of an elementwise
    /// operation on a small tensor.
    @inline(__always)
    private static func allocateSmall(byteCount: Int) -> UnsafeMutableRawPointer {
        guard let unaligned = malloc(byteCount + alignment) else {
            fatalError("Tensor: allocation of \(byteCount) bytes failed")
        }
        // malloc returns 16-byte aligned addresses, so at least 16 bytes precede `aligned`.
        let address = (Int(bitPattern: unaligned) + alignment) & ~(alignment - 1)
        let aligned = UnsafeMutableRawPointer(bitPattern: address)!
        (aligned - MemoryLayout<UnsafeMutableRawPointer>.stride)
            .storeBytes(of: unaligned, as: UnsafeMutableRawPointer.self)
        return aligned
    }

    @inline(__always)
    private static func deallocateSmall(_ aligned: UnsafeMutableRawPointer) {
        let unaligned = (aligned - MemoryLayout<UnsafeMutableRawPointer>.stride)
            .load(as: UnsafeMutableRawPointer.self)
        free(unaligned)
    }
}

/// Freed tensor buffers kept for reuse, by size class.
///
/// A size class rounds the byte count up to a multiple of an eighth of its power of two, so a
/// buffer wastes at most 12.5 % and tensors of similar sizes share buffers. The cache keeps at
/// most `maximumBuffersPerClass` buffers per class and `maximumCachedBytes` in all, and frees
/// what is returned beyond that. It is shared by all threads behind a lock, which costs less
/// than the page faults and heap searches it saves at these sizes.
final class TensorBufferCache: @unchecked Sendable {
    static let shared = TensorBufferCache()

    static let minimumByteCount = 1 << 10
    static let maximumByteCount = 64 << 20
    /// The powers of two whose size classes contain `minimumByteCount` and `maximumByteCount`.
    static let minimumPower = 10
    static let maximumPower = 26
    /// Each power of two has four size classes, of 5/8, 6/8, 7/8 and 8/8 of it.
    static let slotCount = (maximumPower - minimumPower + 1) * 4
    static let maximumBuffersPerClass = 8
    static let maximumCachedBytes = 256 << 20

    private let lock = NSLock()
    /// Free buffers, one array per size class at index `slot(ofSizeClass:)`; guarded by `lock`.
    private var freeBuffers: [[UnsafeMutableRawPointer]]

    private init() {
        var slots: [[UnsafeMutableRawPointer]] = []
        for _ in 0..<TensorBufferCache.slotCount {
            var slot: [UnsafeMutableRawPointer] = []
            slot.reserveCapacity(TensorBufferCache.maximumBuffersPerClass)
            slots.append(slot)
        }
        freeBuffers = slots
    }
    /// Bytes held in `freeBuffers`; guarded by `lock`.
    private var cachedBytes = 0

    /// Returns the capacity in bytes of the class for `byteCount`, or nil when buffers of that
    /// size are not cached.
    @inline(__always)
    static func sizeClass(forByteCount byteCount: Int) -> Int? {
        guard byteCount >= minimumByteCount && byteCount <= maximumByteCount else { return nil }
        let power = Int.bitWidth - (byteCount - 1).leadingZeroBitCount
        let granularity = 1 << (power - 3)
        return (byteCount + granularity - 1) / granularity * granularity
    }

    /// Returns the index in `freeBuffers` of a size class from `sizeClass(forByteCount:)`.
    @inline(__always)
    static func slot(ofSizeClass sizeClass: Int) -> Int {
        let power = Int.bitWidth - (sizeClass - 1).leadingZeroBitCount
        // A size class is 5, 6, 7 or 8 eighths of 2^power.
        let eighths = sizeClass >> (power - 3)
        return (power - minimumPower) * 4 + eighths - 5
    }

    /// Returns a buffer of `sizeClass` bytes, reused when one is free.
    func take(sizeClass: Int) -> UnsafeMutableRawPointer {
        let slot = TensorBufferCache.slot(ofSizeClass: sizeClass)
        lock.lock()
        if let buffer = freeBuffers[slot].popLast() {
            cachedBytes -= sizeClass
            lock.unlock()
            return buffer
        }
        lock.unlock()
        return UnsafeMutableRawPointer.allocate(
            byteCount: sizeClass, alignment: TensorMemory.alignment)
    }

    /// Keeps `buffer` for reuse, or frees it when the cache is full.
    func giveBack(_ buffer: UnsafeMutableRawPointer, sizeClass: Int) {
        let slot = TensorBufferCache.slot(ofSizeClass: sizeClass)
        lock.lock()
        if freeBuffers[slot].count < TensorBufferCache.maximumBuffersPerClass
            && cachedBytes + sizeClass <= TensorBufferCache.maximumCachedBytes
        {
            freeBuffers[slot].append(buffer)
            cachedBytes += sizeClass
            lock.unlock()
            return
        }
        lock.unlock()
        buffer.deallocate()
    }
}
