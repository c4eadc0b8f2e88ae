import Datasets
import Experiments
import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine
import Testing

@Suite("Latent ODE model")
struct LatentModelTests {
    /// Three series of one or two channels with 2, 4 and 3 observations.
    static func series(channels: Int = 2) -> IrregularTimeSeriesDataset {
        let times: [[Double]] = [[0.1, 0.7], [0.0, 0.2, 0.5, 0.9], [0.3, 0.4, 1.2]]
        var generator = RandomGenerator(seed: 5)
        let series = times.enumerated().map { index, times in
            IrregularTimeSeries(
                id: "\(index)", times: times,
                values: (0..<(times.count * channels)).map { _ in Float(generator.nextNormal()) }, channelCount: channels)
        }
        return IrregularTimeSeriesDataset(channelNames: (0..<channels).map { "c\($0)" }, series: series)
    }

    static func sequence<Scalar: TensorScalar>(_ batch: IrregularBatch, as _: Scalar.Type) -> ObservationSequence<Scalar> {
        ObservationSequence(
            values: batch.steps.map { $0.values.converted(to: Scalar.self) },
            timeSincePrevious: batch.steps.map { $0.timeSincePrevious.converted(to: Scalar.self) },
            isPresent: batch.hasEqualLengths ? nil : batch.steps.map { $0.isPresent.converted(to: Scalar.self) })
    }

    @Test("padding does not change a series' posterior", arguments: RecurrentCellKind.allCases)
    func recognitionPadding(cell: RecurrentCellKind) {
        var architecture = LatentODEArchitecture()
        architecture.encoderCell = cell
        var generator = RandomGenerator(seed: 1)
        let model = LatentODEModel<Double>(architecture: architecture, generator: &generator)
        let dataset = Self.series()
        let together = model.encoder(Self.sequence(dataset.batch([0, 1, 2]), as: Double.self))
        for index in 0..<3 {
            let alone = model.encoder(Self.sequence(dataset.batch([index]), as: Double.self))
            for d in 0..<4 {
                #expect(abs(together.mean.scalars[4 * index + d] - alone.mean.scalars[d]) < 1e-12)
                #expect(abs(together.logVariance.scalars[4 * index + d] - alone.logVariance.scalars[d]) < 1e-12)
            }
        }
    }

    @Test("the recognition network reads the observations backwards in time")
    func recognitionOrder() {
        var generator = RandomGenerator(seed: 2)
        let model = LatentODEModel<Double>(architecture: LatentODEArchitecture(), generator: &generator)
        let batch = Self.series().batch([1])
        let sequence = Self.sequence(batch, as: Double.self)
        // The state after the first observation, read last, decides the output.
        let cell = model.encoder.cell
        var hidden = cell.zeroState(batchSize: 1)
        for step in (0..<4).reversed() {
            hidden = cell(Tensor.concatenated([sequence.values[step], sequence.timeSincePrevious[step]], alongAxis: 1), hidden)
        }
        let expected = model.encoder.output(hidden).scalars
        let actual = model.encoder(sequence)
        #expect(zip(actual.mean.scalars, expected.prefix(4)).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect(zip(actual.logVariance.scalars, expected.suffix(4)).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test("ELBO gradients by the adjoint match backpropagation")
    func adjointMatchesBackpropagation() throws {
        var generator = RandomGenerator(seed: 3)
        let model = LatentODEModel<Double>(architecture: LatentODEArchitecture(), generator: &generator)
        let batch = Self.series().batch([0, 1, 2])
        let noise = Tensor<Double>(randomNormal: [3, 4], generator: &generator)
        let options = ODESolverOptions(relativeTolerance: 1e-10, absoluteTolerance: 1e-12)

        func lossGradients(_ gradient: GradientMethod) throws -> [[Double]] {
            let posterior = model.encoder(Self.sequence(batch, as: Double.self))
            let initial = posterior.mean + (posterior.logVariance * 0.5).exp() * noise
            let (solution, predictions) = try model.solve(from: initial, at: batch.gridTimes, options: options, gradient: gradient)
            let elbo = LatentELBO(
                observations: batch.gridValues.converted(to: Double.self), mask: batch.gridMask.converted(to: Double.self),
                predictions: predictions, observationStandardDeviation: 0.1, posteriorMean: posterior.mean,
                posteriorLogVariance: posterior.logVariance)
            let result = gradients(of: elbo.loss, withRespectTo: model.parameters)
            try solution.backward.check()
            #expect(gradient.isAdjoint == (solution.backward.statistics.functionEvaluations > 0))
            return result.map(\.scalars)
        }
        let direct = try lossGradients(.backpropagation)
        let adjoint = try lossGradients(.adjoint)
        #expect(direct.count == model.parameters.count)
        for (a, b) in zip(direct, adjoint) {
            for (x, y) in zip(a, b) {
                // Both solves use tolerance 1e-10, but the loss weighs squared errors by
                // 1/σ² = 100 and sums over observations, so the adjoint state and the absolute
                // error of its backward solve are a few hundred times the gradients.
                #expect(abs(x - y) <= 2e-5 * max(1, abs(x)))
            }
        }
    }

    @Test("a solve decodes every latent state")
    func solveShapes() throws {
        var generator = RandomGenerator(seed: 4)
        var architecture = LatentODEArchitecture()
        architecture.observationDimension = 3
        architecture.dynamicsHiddenLayers = 2
        let model = LatentODEModel<Float>(architecture: architecture, generator: &generator)
        let (solution, predictions) = try model.solve(
            from: Tensor(zeros: [5, 4]), at: [0, 0.5, 1], options: ODESolverOptions(relativeTolerance: 1e-4, absoluteTolerance: 1e-6))
        #expect(solution.trajectory.shape == [3, 5, 4])
        #expect(predictions.shape == [3, 5, 3])
        #expect(model.dynamics.layers.count == 3)
    }

    @Test("ELU is x above 0 and exp(x) − 1 below")
    func elu() {
        let x = Tensor<Double>([-2, -0.5, 0, 0.5, 3])
        let y = LatentActivation.elu(x).scalars
        let expected: [Double] = [Foundation.exp(-2.0) - 1, Foundation.exp(-0.5) - 1, 0, 0.5, 3]
        #expect(zip(y, expected).allSatisfy { abs($0 - $1) < 1e-15 })
    }

    @Test("baseline padding does not change a series' forecast", arguments: [false, true])
    func forecasterPadding(readsTimeGap: Bool) {
        var generator = RandomGenerator(seed: 6)
        let model = RecurrentForecaster<Double>(
            channelCount: 2, hiddenUnits: 5, cell: .gru, readsTimeGap: readsTimeGap, readsMask: false,
            generator: &generator)
        let dataset = Self.series()
        let future = [1.5, 1.6, 1.8]
        let together = model.forecast(dataset.batch([0, 1, 2]), at: future)
        #expect(together.shape == [3, 3, 2])
        for index in 0..<3 {
            let alone = model.forecast(dataset.batch([index]), at: future).scalars
            for step in 0..<3 {
                for c in 0..<2 {
                    #expect(abs(together.scalars[(step * 3 + index) * 2 + c] - alone[step * 2 + c]) < 1e-12)
                }
            }
        }
    }

    @Test("baseline one-step loss sums the Gaussian terms of every later observation")
    func forecasterLoss() throws {
        var generator = RandomGenerator(seed: 8)
        let model = RecurrentForecaster<Double>(
            channelCount: 2, hiddenUnits: 4, cell: .tanh, readsTimeGap: true, readsMask: false, generator: &generator)
        let batch = Self.series().batch([0, 1, 2])
        let (predictions, targets, mask) = try #require(model.oneStepPredictions(batch))
        #expect(predictions.shape == [3, 3, 2])
        #expect(mask.scalars == [1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0])
        let loss = model.negativeLogLikelihood(batch, observationStandardDeviation: 0.5).scalars
        let p = predictions.scalars
        let x = targets.scalars
        for b in 0..<3 {
            var expected = 0.0
            for step in 0..<3 {
                for c in 0..<2 where mask.scalars[(step * 3 + b) * 2 + c] == 1 {
                    let index = (step * 3 + b) * 2 + c
                    let d = x[index] - p[index]
                    expected += 0.5 * (log(2 * Double.pi) + log(0.25) + d * d / 0.25)
                }
            }
            #expect(abs(loss[b] - expected) < 1e-10)
        }
    }
}

extension GradientMethod {
    var isAdjoint: Bool {
        if case .adjoint = self { return true }
        return false
    }
}
