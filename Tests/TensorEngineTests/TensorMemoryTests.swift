import Testing

@testable import TensorEngine

@Suite("Tensor buffer cache")
struct TensorMemoryTests {
    @Test("size classes map to distinct slots")
    func sizeClassSlots() throws {
        var slotOfClass: [Int: Int] = [:]
        var byteCount = TensorBufferCache.minimumByteCount
        while byteCount <= TensorBufferCache.maximumByteCount {
            let sizeClass = try #require(TensorBufferCache.sizeClass(forByteCount: byteCount))
            #expect(sizeClass >= byteCount, "class \(sizeClass) for \(byteCount) bytes")
            #expect(sizeClass * 8 <= byteCount * 10, "class \(sizeClass) for \(byteCount) bytes")
            let slot = TensorBufferCache.slot(ofSizeClass: sizeClass)
            #expect(slot >= 0, "slot \(slot) of class \(sizeClass)")
            #expect(slot < TensorBufferCache.slotCount, "slot \(slot) of class \(sizeClass)")
            if let known = slotOfClass[sizeClass] {
                #expect(known == slot, "class \(sizeClass)")
            }
            slotOfClass[sizeClass] = slot
            // Steps of a little under 1/16 of the size visit every class and its neighbours.
            byteCount += max(1, byteCount / 17)
        }
        #expect(Set(slotOfClass.values).count == slotOfClass.count)
        // Every slot from that of the smallest class to the last one is in use. The slots below
        // it belong to classes smaller than `minimumByteCount`.
        let firstSlot = TensorBufferCache.slot(ofSizeClass: TensorBufferCache.minimumByteCount)
        #expect(Set(slotOfClass.values) == Set(firstSlot..<TensorBufferCache.slotCount))
        #expect(TensorBufferCache.sizeClass(forByteCount: TensorBufferCache.minimumByteCount - 1) == nil)
        #expect(TensorBufferCache.sizeClass(forByteCount: TensorBufferCache.maximumByteCount + 1) == nil)
    }

    @Test("reused buffers keep tensors independent")
    func reusedBuffers() {
        // Tensors of 4000 bytes come from the cache. A freed buffer handed to a new tensor must
        // not change the values of live ones.
        var tensors: [Tensor<Float>] = []
        var expectedValues: [Float] = []
        for round in 0..<20 {
            tensors.append(Tensor(repeating: Float(round), shape: [1000]))
            expectedValues.append(Float(round))
            if round % 3 == 2 {
                tensors.removeFirst()
                expectedValues.removeFirst()
            }
        }
        for (tensor, value) in zip(tensors, expectedValues) {
            #expect(tensor.scalars.allSatisfy { $0 == value }, "tensor filled with \(value)")
        }
    }
}
