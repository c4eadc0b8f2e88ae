import Datasets
import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import Plotting
import TensorEngine

/// Settings of the Poisson-process example: a latent ODE whose trajectory sets the rate of
/// events, fitted to event times alone (Chen et al., "Neural Ordinary Differential Equations",
/// NeurIPS 2018, Section 5.1 and Figure 7).
///
/// Each toy series has the rate `λ(t) = r (1 + m sin(2π t / P + φ))` on `[0, windowEnd]` with
/// its own phase `φ`, uniform on `[0, 2π)`, and events drawn by thinning (Lewis and Shedler,
/// 1979). Event times are rounded to a grid of `gridCount` times, the resolution of the model's
/// outputs, and a grid time can hold several events.
public struct PoissonExampleConfiguration: Sendable {
    public var seriesCount = 200
    public var windowEnd = 10.0
    public var gridCount = 101
    /// Mean rate `r`, in events per unit time.
    public var baseRate = 3.0
    /// Relative modulation `m`, in `[0, 1]`.
    public var modulation = 0.9
    /// Period `P` of the modulation.
    public var period = 5.0
    public var latentDimension = 4
    public var hiddenUnits = 20
    public var encoderHiddenUnits = 25
    public var iterations = 300
    public var learningRate = 0.01
    public var seed: UInt64 = 0
    public var gradient: GradientMethod = .adjoint
    public var relativeTolerance = 1e-3
    public var absoluteTolerance = 1e-4
    public var reportEvery = 10

    public init() {}

    /// The grid of output times, `0…windowEnd`.
    public var gridTimes: [Double] { (0..<gridCount).map { windowEnd * Double($0) / Double(gridCount - 1) } }
}

/// Toy event data: the true rate and the events (counts on the grid) of each series.
public struct PoissonEventData {
    /// The true rate of each series at the grid times, `[series][grid]`.
    public let rates: [[Double]]
    /// Events of each series as an irregular series with one channel, the number of events at
    /// each grid time that has any.
    public let events: IrregularTimeSeriesDataset
    /// Event counts on the grid, `[gridCount, seriesCount, 1]`.
    public let counts: Tensor<Float>

    /// Draws the data of `configuration` from its seed.
    public init(configuration c: PoissonExampleConfiguration) {
        var generator = RandomGenerator(seed: c.seed)
        let grid = c.gridTimes
        let step = c.windowEnd / Double(c.gridCount - 1)
        let maximumRate = c.baseRate * (1 + c.modulation)
        var rates: [[Double]] = []
        var series: [IrregularTimeSeries] = []
        var counts = [Float](repeating: 0, count: c.gridCount * c.seriesCount)
        for index in 0..<c.seriesCount {
            let phase = 2 * Double.pi * generator.nextUniform()
            let rate = { (t: Double) in c.baseRate * (1 + c.modulation * Foundation.sin(2 * Double.pi * t / c.period + phase)) }
            rates.append(grid.map(rate))
            // Thinning: candidates from a homogeneous process of the maximum rate, each kept
            // with probability λ(t) / λ_max.
            var binCounts = [Int](repeating: 0, count: c.gridCount)
            var t = 0.0
            while true {
                t += -Foundation.log(1 - generator.nextUniform()) / maximumRate
                guard t <= c.windowEnd else { break }
                if generator.nextUniform() * maximumRate < rate(t) {
                    binCounts[min(c.gridCount - 1, Int((t / step).rounded()))] += 1
                }
            }
            let bins = binCounts.indices.filter { binCounts[$0] > 0 }
            for bin in bins { counts[bin * c.seriesCount + index] = Float(binCounts[bin]) }
            if !bins.isEmpty {
                series.append(
                    IrregularTimeSeries(
                        id: "\(index)", times: bins.map { grid[$0] }, values: bins.map { Float(binCounts[$0]) },
                        channelCount: 1))
            } else {
                // A series without events still needs one step for the encoder: a zero count at 0.
                series.append(IrregularTimeSeries(id: "\(index)", times: [0], values: [0], channelCount: 1))
            }
        }
        self.rates = rates
        events = IrregularTimeSeriesDataset(channelNames: ["events"], series: series)
        self.counts = Tensor(shape: [c.gridCount, c.seriesCount, 1], scalars: counts)
    }
}

/// A latent ODE with a Poisson-process likelihood: recognition network over the event times,
/// latent dynamics, and the event rate `λ(z)`.
public final class PoissonLatentModel: Module {
    public typealias Scalar = Float
    public let encoder: RecognitionNetwork<Float>
    public let dynamics: LatentDynamics<Float>
    public let intensity: PoissonIntensity<Float>

    public init(configuration c: PoissonExampleConfiguration, generator: inout RandomGenerator) {
        var architecture = LatentODEArchitecture()
        architecture.observationDimension = 1
        architecture.latentDimension = c.latentDimension
        architecture.encoderHiddenUnits = c.encoderHiddenUnits
        encoder = RecognitionNetwork(architecture: architecture, generator: &generator)
        dynamics = LatentDynamics(
            latentDimension: c.latentDimension, hiddenUnits: c.hiddenUnits, hiddenLayers: 1, activation: .elu,
            generator: &generator)
        intensity = PoissonIntensity(latentDimension: c.latentDimension, hiddenUnits: c.hiddenUnits, generator: &generator)
    }
}

/// Fits `PoissonLatentModel` to `PoissonEventData` by maximising the ELBO with the
/// Poisson-process log-likelihood of the events.
public final class PoissonExample {
    public let configuration: PoissonExampleConfiguration
    public let data: PoissonEventData
    public let model: PoissonLatentModel
    let optimizer: Adam<Float>
    let batch: IrregularBatch
    let windowEndMask: Tensor<Float>
    public private(set) var iteration = 0

    public init(configuration: PoissonExampleConfiguration) {
        self.configuration = configuration
        data = PoissonEventData(configuration: configuration)
        var generator = RandomGenerator(seed: mixedSeed(configuration.seed, 0x5EED))
        model = PoissonLatentModel(configuration: configuration, generator: &generator)
        optimizer = Adam(parameters: model.namedParameters, learningRate: configuration.learningRate)
        batch = data.events.batch(Array(data.events.series.indices))
        let grid = configuration.gridCount
        let count = configuration.seriesCount
        windowEndMask = Tensor(shape: [grid, count, 1]) { out in
            for i in 0..<out.count { out[i] = i >= (grid - 1) * count ? 1 : 0 }
        }
    }

    var solverOptions: ODESolverOptions {
        ODESolverOptions(
            relativeTolerance: .scalar(configuration.relativeTolerance),
            absoluteTolerance: .scalar(configuration.absoluteTolerance))
    }

    var sequence: ObservationSequence<Float> {
        ObservationSequence(
            values: batch.steps.map(\.values), timeSincePrevious: batch.steps.map(\.timeSincePrevious),
            isPresent: batch.hasEqualLengths ? nil : batch.steps.map(\.isPresent))
    }

    /// Solves from `initialState` on the grid and returns the rates `[grid, series, 1]` and the
    /// solution (latent states and integrated rate).
    func rates(from initialState: Tensor<Float>, gradient: GradientMethod) throws(ODESolveError)
        -> (rates: Tensor<Float>, solution: NeuralODESolution<Float>)
    {
        let solution = try solveWithIntegratedIntensity(
            model.dynamics.callAsFunction, intensity: model.intensity.callAsFunction, from: initialState,
            at: configuration.gridTimes, options: solverOptions, gradient: gradient,
            parameters: model.dynamics.parameters + model.intensity.parameters)
        return (model.intensity(solution.states[0]), solution)
    }

    /// Runs one iteration on all series and returns the loss (negative ELBO per series) and the
    /// forward and backward function evaluations.
    public func trainingStep() throws(ODESolveError) -> (loss: Double, forward: Int, backward: Int) {
        var generator = RandomGenerator(seed: mixedSeed(configuration.seed, UInt64(iteration + 1)))
        let posterior = model.encoder(sequence)
        let initialState = LatentODEModel.sampleInitialState(
            mean: posterior.mean, logVariance: posterior.logVariance, generator: &generator)
        let (rates, solution) = try rates(from: initialState, gradient: configuration.gradient)
        let logLikelihood = poissonProcessLogLikelihood(
            intensity: rates, eventMask: data.counts, integratedIntensity: solution.states[1],
            windowEndMask: windowEndMask)
        let zero = Tensor<Float>(0)
        let kl = klDivergenceDiagonalGaussians(
            mean1: posterior.mean, logVariance1: posterior.logVariance, mean2: zero, logVariance2: zero
        ).sum(alongAxis: 1)
        let loss = (kl - logLikelihood).mean()
        let parameterGradients = gradients(of: loss, withRespectTo: optimizer.parameters)
        try solution.backward.check()
        optimizer.step(gradients: parameterGradients)
        iteration += 1
        return (
            Double(loss.scalar), solution.statistics.functionEvaluations,
            solution.backward.statistics.functionEvaluations
        )
    }

    /// Computes the learned rates from the posterior means, `[series][grid]`.
    public func learnedRates() throws(ODESolveError) -> [[Double]] {
        let previous = GradientMode.isEnabled
        GradientMode.isEnabled = false
        defer { GradientMode.isEnabled = previous }
        let mean = model.encoder(sequence).mean
        let values = try rates(from: mean, gradient: .backpropagation).rates.doubles
        let count = configuration.seriesCount
        return (0..<count).map { series in (0..<configuration.gridCount).map { values[$0 * count + series] } }
    }

    /// Mean absolute error of the learned rates against the true ones, over series and grid.
    public func rateError() throws(ODESolveError) -> Double {
        let learned = try learnedRates()
        var total = 0.0
        for (truth, estimate) in zip(data.rates, learned) {
            for (a, b) in zip(truth, estimate) { total += abs(a - b) }
        }
        return total / Double(configuration.seriesCount * configuration.gridCount)
    }

    /// Writes `event-rate.svg`: for three series, the events, the true rate and the learned rate.
    public func writePicture(to folder: URL) throws -> URL {
        let learned = try learnedRates()
        let grid = configuration.gridTimes
        var plots: [Plot] = []
        for series in 0..<min(3, configuration.seriesCount) {
            var plot = Plot(title: "Series \(series)", xLabel: "t", yLabel: "event rate λ(t)")
            plot.addLine(x: grid, y: data.rates[series], label: "true rate", color: .gray)
            plot.addLine(x: grid, y: learned[series], label: "learned rate", color: Palette.color(at: 1))
            let events = data.events.series[series]
            plot.addScatter(
                x: events.times, y: events.times.map { _ in 0 }, label: "events", color: Palette.color(at: 0),
                marker: .cross, size: 5)
            plots.append(plot)
        }
        let figure = Figure(
            columns: 1, plotWidth: 640, plotHeight: 220,
            title: "Latent ODE with a Poisson-process likelihood (events only)", plots: plots)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let url = folder.appendingPathComponent("event-rate.svg")
        try figure.writeSVG(to: url.path)
        return url
    }
}
