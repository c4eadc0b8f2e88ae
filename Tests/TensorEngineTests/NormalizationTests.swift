import TensorEngine
import Testing

@Suite("Normalization")
struct NormalizationTests {
    @Test("one group normalises the whole sample")
    func oneGroup() {
        // Mean 2.5, biased variance 1.25.
        let input = Tensor<Double>(shape: [1, 2, 2], scalars: [1, 2, 3, 4])
        let output = input.groupNormalized(groupCount: 1)
        let scale = 1 / (1.25 + 1e-5).squareRoot()
        let expected = [-1.5 * scale, -0.5 * scale, 0.5 * scale, 1.5 * scale]
        #expect(largestScaledDifference(output.doubles, expected) < 1e-14)
    }

    @Test("groups of one channel normalise each channel")
    func groupPerChannel() {
        // Channel 0: mean 1.5, variance 0.25. Channel 1: mean 4, variance 1.
        let input = Tensor<Double>(shape: [1, 2, 2], scalars: [1, 2, 3, 5])
        let output = input.groupNormalized(groupCount: 2, epsilon: 0)
        #expect(largestScaledDifference(output.doubles, [-1, 1, -1, 1]) < 1e-14)
    }

    @Test("every group has zero mean and unit variance")
    func groupStatistics() {
        var generator = RandomGenerator(seed: 51)
        let input = Tensor<Double>(randomNormal: [3, 8, 3, 3], generator: &generator) * 4 + 7
        let grouped = input.groupNormalized(groupCount: 4, epsilon: 0).reshaped(to: [3, 4, 18])
        let mean = grouped.mean(alongAxes: [2])
        let variance = grouped.squared().mean(alongAxes: [2]) - mean.squared()
        #expect(mean.doubles.allSatisfy { abs($0) < 1e-12 })
        #expect(variance.doubles.allSatisfy { abs($0 - 1) < 1e-12 })
    }

    @Test("batch statistics of features")
    func featureStatistics() {
        let input = Tensor<Double>(shape: [3, 2], scalars: [1, 10, 2, 20, 3, 30])
        let (output, mean, variance) = input.batchNormalized(alongAxes: [0], epsilon: 0)
        #expect(mean.shape == [1, 2])
        #expect(mean.scalars == [2, 20])
        #expect(largestScaledDifference(variance.doubles, [2.0 / 3, 200.0 / 3]) < 1e-14)
        let unit = (1.5).squareRoot()
        #expect(largestScaledDifference(output.doubles, [-unit, -unit, 0, 0, unit, unit]) < 1e-14)
    }

    @Test("batch normalisation of images matches composed operations")
    func imagesMatchComposition() {
        var generator = RandomGenerator(seed: 52)
        let input = Tensor<Double>(randomNormal: [4, 3, 2, 5], generator: &generator)
        let (output, mean, variance) = input.batchNormalized(alongAxes: [0, 2, 3])
        let expectedMean = input.mean(alongAxes: [0, 2, 3], keepingDimensions: true)
        let centered = input - expectedMean
        let expectedVariance = centered.squared().mean(alongAxes: [0, 2, 3], keepingDimensions: true)
        let expectedOutput = centered / (expectedVariance + 1e-5).sqrt()
        #expect(mean.shape == [1, 3, 1, 1])
        #expect(variance.shape == [1, 3, 1, 1])
        #expect(largestScaledDifference(mean.doubles, expectedMean.doubles) < 1e-14)
        #expect(largestScaledDifference(variance.doubles, expectedVariance.doubles) < 1e-14)
        #expect(largestScaledDifference(output.doubles, expectedOutput.doubles) < 1e-13)
    }

    @Test("axes that leave separated axes use the composed path")
    func separatedAxes() {
        // Reducing only axis 1 of [2, 4, 3] keeps axes 0 and 2, which the fused kernel cannot
        // lay out as [outer, kept, inner].
        var generator = RandomGenerator(seed: 53)
        let input = Tensor<Double>(randomNormal: [2, 4, 3], generator: &generator)
        let (output, mean, variance) = input.batchNormalized(alongAxes: [1], epsilon: 0)
        #expect(mean.shape == [2, 1, 3])
        let perColumn = output.mean(alongAxes: [1])
        let spread = output.squared().mean(alongAxes: [1])
        #expect(perColumn.doubles.allSatisfy { abs($0) < 1e-12 })
        #expect(spread.doubles.allSatisfy { abs($0 - 1) < 1e-12 })
        #expect(variance.doubles.allSatisfy { $0 > 0 })
    }

    @Test("given statistics reproduce the training output")
    func evaluationMatchesTraining() {
        var generator = RandomGenerator(seed: 54)
        let input = Tensor<Float>(randomNormal: [5, 3, 2, 2], generator: &generator)
        let training = input.batchNormalized(alongAxes: [0, 2, 3])
        let evaluation = input.batchNormalized(mean: training.mean, variance: training.variance)
        #expect(largestScaledDifference(evaluation.doubles, training.output.doubles) < 1e-5)
    }

    @Test("Float statistics stay accurate far from zero")
    func floatAccuracy() {
        // Values near 1000 with unit spread: a one-pass sum of squares in Float would lose
        // the variance to cancellation.
        var generator = RandomGenerator(seed: 55)
        let values = Tensor<Double>(randomNormal: [4096, 2], generator: &generator) + 1000
        let single = values.converted(to: Float.self).batchNormalized(alongAxes: [0])
        let double = values.batchNormalized(alongAxes: [0])
        #expect(largestScaledDifference(single.variance.doubles, double.variance.doubles) < 1e-4)
        #expect(largestScaledDifference(single.output.doubles, double.output.doubles) < 1e-3)
    }

    @Test("fused pullback equals the recorded pullback")
    func fusedAndRecordedPullback() {
        var generator = RandomGenerator(seed: 56)
        let x = Tensor<Double>(randomNormal: [3, 6, 2, 2], generator: &generator).requiringGradient()
        let y = x.groupNormalized(groupCount: 3)
        let seed = Tensor<Double>(randomNormal: y.shape, generator: &generator)
        let fused = gradients(of: y, withRespectTo: [x], seed: seed)[0]
        let recorded = gradients(of: y, withRespectTo: [x], seed: seed, createGraph: true)[0]
        #expect(recorded.requiresGradient)
        #expect(largestScaledDifference(fused.doubles, recorded.doubles) < 1e-12)
    }

    // MARK: - Misuse

    @Test("channels not divisible by groups stop the program")
    func groupsDoNotDivideChannels() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Float>(zeros: [2, 6, 3, 3]).groupNormalized(groupCount: 4)
        }
    }

    @Test("group normalisation of a vector stops the program")
    func groupRank() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Float>(zeros: [6]).groupNormalized(groupCount: 2)
        }
    }

    @Test("batch normalisation without axes stops the program")
    func noAxes() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Float>(zeros: [2, 3]).batchNormalized(alongAxes: [])
        }
    }

    @Test("batch normalisation along a missing axis stops the program")
    func axisOutOfRange() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Float>(zeros: [2, 3]).batchNormalized(alongAxes: [2])
        }
    }

    @Test("statistics that do not broadcast stop the program")
    func statisticsShape() async {
        await #expect(processExitsWith: .failure) {
            _ = Tensor<Float>(zeros: [2, 3, 4, 4])
                .batchNormalized(mean: Tensor(zeros: [4, 1, 1]), variance: Tensor(ones: [4, 1, 1]))
        }
    }
}
