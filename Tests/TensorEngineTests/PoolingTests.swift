import TensorEngine
import Testing

@Suite("Average pooling")
struct PoolingTests {
    @Test("2x2 windows with stride 2 average each block")
    func blocks() {
        let input = Tensor<Double>(shape: [1, 1, 4, 4], scalars: (0..<16).map(Double.init))
        let output = input.averagePooled2d(kernelSize: 2, stride: 2)
        #expect(output.shape == [1, 1, 2, 2])
        #expect(output.scalars == [2.5, 4.5, 10.5, 12.5])
    }

    @Test("padded windows divide by the full kernel area")
    func paddingCountsInDivisor() {
        // Windows at rows and columns −1...1 and 1...3 of the 3×3 input 1...9; the padding
        // zeros count, as in PyTorch's default count_include_pad=True.
        let input = Tensor<Double>(shape: [1, 3, 3], scalars: [1, 2, 3, 4, 5, 6, 7, 8, 9])
        let output = input.averagePooled2d(kernelSize: 3, stride: 2, padding: 1)
        #expect(output.shape == [1, 2, 2])
        let expected: [Double] = [12.0 / 9, 16.0 / 9, 24.0 / 9, 28.0 / 9]
        #expect(largestScaledDifference(output.doubles, expected) < 1e-15)
    }

    @Test("pullback spreads each cotangent over its window")
    func pullback() {
        let input = Tensor<Double>(zeros: [1, 1, 2, 4]).requiringGradient()
        let output = input.averagePooled2d(kernelSize: 2, stride: 2)
        let seed = Tensor<Double>(shape: [1, 1, 1, 2], scalars: [4, 8])
        let gradient = gradients(of: output, withRespectTo: [input], seed: seed)[0]
        #expect(gradient.scalars == [1, 1, 2, 2, 1, 1, 2, 2])
    }

    @Test("adaptive bins follow floor and ceiling boundaries")
    func adaptiveBins() {
        // 5 → 3 bins: [0, 2), [1, 4), [3, 5).
        let input = Tensor<Double>(shape: [1, 1, 1, 5], scalars: [1, 2, 3, 4, 5])
        let output = input.adaptiveAveragePooled2d(outputSize: (1, 3))
        #expect(output.shape == [1, 1, 1, 3])
        #expect(output.scalars == [1.5, 3, 4.5])
    }

    @Test("adaptive pooling to a larger size repeats and blends")
    func adaptiveUpsampling() {
        // 2 → 3 bins: [0, 1), [0, 2), [1, 2).
        let input = Tensor<Double>(shape: [1, 2, 1], scalars: [2, 6])
        let output = input.adaptiveAveragePooled2d(outputSize: (3, 1))
        #expect(output.shape == [1, 3, 1])
        #expect(output.scalars == [2, 4, 6])
    }

    @Test("adaptive pooling to 1x1 is the mean of each plane")
    func globalAverage() {
        var generator = RandomGenerator(seed: 41)
        let input = Tensor<Double>(randomNormal: [3, 2, 5, 7], generator: &generator)
        let output = input.adaptiveAveragePooled2d(outputSize: (1, 1))
        #expect(output.shape == [3, 2, 1, 1])
        let expected = input.mean(alongAxes: [2, 3], keepingDimensions: true)
        #expect(largestScaledDifference(output.doubles, expected.doubles) < 1e-14)
    }

    @Test("Float pooling agrees with Double")
    func floatPooling() {
        var generator = RandomGenerator(seed: 42)
        let input = Tensor<Double>(randomNormal: [2, 3, 7, 6], generator: &generator)
        let single = input.converted(to: Float.self).averagePooled2d(kernelSize: 3, stride: 2, padding: 1)
        let double = input.averagePooled2d(kernelSize: 3, stride: 2, padding: 1)
        #expect(largestScaledDifference(single.doubles, double.doubles) < 1e-6)
    }

    // MARK: - Misuse

    @Test("window larger than the padded input stops the program")
    func windowTooLarge() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Float>(zeros: [1, 1, 2, 2]).averagePooled2d(kernelSize: 3, stride: 1)
        }
    }

    @Test("padding beyond half the kernel stops the program")
    func paddingTooLarge() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Float>(zeros: [1, 1, 4, 4]).averagePooled2d(kernelSize: 2, stride: 1, padding: 2)
        }
    }

    @Test("rank 2 input stops the program")
    func rankTwo() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Float>(zeros: [4, 4]).adaptiveAveragePooled2d(outputSize: (2, 2))
        }
    }

    @Test("adaptive output size 0 stops the program")
    func emptyOutputSize() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Float>(zeros: [1, 1, 4, 4]).adaptiveAveragePooled2d(outputSize: (0, 2))
        }
    }
}
