import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine
import Testing

@Suite("Latent ODE likelihoods")
struct LatentLikelihoodTests {
    @Test("ELBO terms match a hand computation")
    func elboByHand() {
        // Two times, two series, one channel; series 1 is not observed at the first time.
        let observations = Tensor<Double>(shape: [2, 2, 1], scalars: [1.0, 0.5, 2.0, -1.0])
        let mask = Tensor<Double>(shape: [2, 2, 1], scalars: [1, 0, 1, 1])
        let predictions = Tensor<Double>(shape: [2, 2, 1], scalars: [0.5, 9.0, 2.5, -1.0])
        let mean = Tensor<Double>(shape: [2, 2], scalars: [0.5, -1, 0, 0])
        let logVariance = Tensor<Double>(shape: [2, 2], scalars: [log(2), 0, 0, log(0.5)])
        let elbo = LatentELBO(
            observations: observations, mask: mask, predictions: predictions, observationStandardDeviation: 0.5,
            posteriorMean: mean, posteriorLogVariance: logVariance)

        // log N(x | μ, 0.25) = −(log 2π + log 0.25 + (x − μ)² / 0.25) / 2.
        let constant = log(2 * Double.pi) + log(0.25)
        let logLikelihood0 = -0.5 * (constant + 1) - 0.5 * (constant + 1)
        let logLikelihood1 = -0.5 * constant
        // KL(N(μ, σ²) ‖ N(0, 1)) = (σ² + μ² − 1 − log σ²) / 2 per coordinate.
        let kl0 = 0.5 * (2 + 0.25 - 1 - log(2)) + 0.5 * (1 + 1 - 1)
        let kl1 = 0.5 * (0.5 - 1 - log(0.5))
        let logLikelihood = elbo.logLikelihood.scalars
        let kl = elbo.klDivergence.scalars
        #expect(abs(logLikelihood[0] - logLikelihood0) < 1e-12)
        #expect(abs(logLikelihood[1] - logLikelihood1) < 1e-12)
        #expect(abs(kl[0] - kl0) < 1e-12)
        #expect(abs(kl[1] - kl1) < 1e-12)
        let expectedLoss = ((kl0 - logLikelihood0) + (kl1 - logLikelihood1)) / 2
        #expect(abs(elbo.loss.scalar - expectedLoss) < 1e-12)
    }

    @Test("masked entries get no gradient")
    func maskedGradient() {
        let observations = Tensor<Double>(shape: [1, 2, 1], scalars: [1, 2])
        let mask = Tensor<Double>(shape: [1, 2, 1], scalars: [1, 0])
        let predictions = Tensor<Double>(shape: [1, 2, 1], scalars: [0, 0]).requiringGradient()
        let elbo = LatentELBO(
            observations: observations, mask: mask, predictions: predictions, observationStandardDeviation: 1,
            posteriorMean: Tensor(zeros: [2, 1]), posteriorLogVariance: Tensor(zeros: [2, 1]))
        let gradient = gradients(of: elbo.loss, withRespectTo: [predictions])[0].scalars
        // d/dμ of −mean(log N(1 | μ, 1)) at μ = 0 is −(1 − 0) / 2.
        #expect(gradient == [-0.5, 0])
    }

    @Test("Poisson log-likelihood of given rates follows Σ log λ − Λ(T)")
    func poissonFormula() {
        // Three grid times, two series.
        let intensity = Tensor<Double>(shape: [3, 2, 1], scalars: [1, 2, 3, 4, 5, 6])
        let events = Tensor<Double>(shape: [3, 2, 1], scalars: [1, 0, 2, 1, 0, 0])
        let integrated = Tensor<Double>(shape: [3, 2, 1], scalars: [0, 0, 1.5, 2.5, 7, 9])
        let windowEnd = Tensor<Double>(shape: [3, 2, 1], scalars: [0, 0, 0, 1, 1, 0])
        let result = poissonProcessLogLikelihood(
            intensity: intensity, eventMask: events, integratedIntensity: integrated, windowEndMask: windowEnd
        ).scalars
        #expect(abs(result[0] - (log(1) + 2 * log(3) - 7)) < 1e-12)
        #expect(abs(result[1] - (log(4) - 2.5)) < 1e-12)
    }

    /// Returns an intensity network whose output is the constant `rate`: zero weights and the bias
    /// `softplus⁻¹(rate) = log(exp(rate) − 1)`.
    static func constantIntensity(rate: Double) -> PoissonIntensity<Double> {
        var generator = RandomGenerator(seed: 1)
        let intensity = PoissonIntensity<Double>(latentDimension: 2, hiddenUnits: 3, generator: &generator)
        intensity.output.weight.assign(Tensor(zeros: [1, 3]))
        intensity.output.bias!.assign(Tensor([log(exp(rate) - 1)]))
        return intensity
    }

    @Test("Poisson likelihood with a constant rate equals N log λ − λ T")
    func poissonConstantRate() throws {
        let rate = 1.7
        let intensity = Self.constantIntensity(rate: rate)
        var generator = RandomGenerator(seed: 2)
        let dynamics = LatentDynamics<Double>(
            latentDimension: 2, hiddenUnits: 4, hiddenLayers: 1, activation: .tanh, generator: &generator)
        let times = (0...8).map { Double($0) * 0.5 }
        let initial = Tensor<Double>(randomNormal: [3, 2], generator: &generator)
        let solution = try solveWithIntegratedIntensity(
            dynamics.callAsFunction, intensity: intensity.callAsFunction, from: initial, at: times,
            options: ODESolverOptions(relativeTolerance: 1e-8, absoluteTolerance: 1e-10), gradient: .backpropagation,
            parameters: dynamics.parameters + intensity.parameters)
        let rates = intensity(solution.states[0])
        // Series 0: 3 events on [0, 4]; series 1: none on [0, 4]; series 2: 2 events on [0, 2].
        var events = [Double](repeating: 0, count: 9 * 3)
        events[1 * 3 + 0] = 1
        events[6 * 3 + 0] = 2
        events[2 * 3 + 2] = 1
        events[4 * 3 + 2] = 1
        var windowEnd = [Double](repeating: 0, count: 9 * 3)
        windowEnd[8 * 3 + 0] = 1
        windowEnd[8 * 3 + 1] = 1
        windowEnd[4 * 3 + 2] = 1
        let logLikelihood = poissonProcessLogLikelihood(
            intensity: rates, eventMask: Tensor(shape: [9, 3, 1], scalars: events),
            integratedIntensity: solution.states[1], windowEndMask: Tensor(shape: [9, 3, 1], scalars: windowEnd)
        ).scalars
        let expected = [3 * log(rate) - rate * 4, -rate * 4, 2 * log(rate) - rate * 2]
        for (actual, value) in zip(logLikelihood, expected) {
            #expect(abs(actual - value) < 1e-9)
        }
        #expect(abs(solution.states[1].scalars.last! - rate * 4) < 1e-9)
    }

    @Test("adjoint gradients of the Poisson solve match backpropagation")
    func poissonAdjointGradients() throws {
        var generator = RandomGenerator(seed: 7)
        let dynamics = LatentDynamics<Double>(
            latentDimension: 2, hiddenUnits: 5, hiddenLayers: 1, activation: .elu, generator: &generator)
        let intensity = PoissonIntensity<Double>(latentDimension: 2, hiddenUnits: 5, generator: &generator)
        let initial = Tensor<Double>(randomNormal: [4, 2], generator: &generator).requiringGradient()
        let times = [0, 0.3, 1.1, 2.0]
        let events = Tensor<Double>(shape: [4, 4, 1], scalars: (0..<16).map { Double($0 % 3 == 0 ? 1 : 0) })
        let windowEnd = Tensor<Double>(shape: [4, 4, 1], scalars: (0..<16).map { $0 >= 12 ? 1 : 0 })
        let parameters = dynamics.parameters + intensity.parameters

        func lossGradients(_ gradient: GradientMethod) throws -> [[Double]] {
            let solution = try solveWithIntegratedIntensity(
                dynamics.callAsFunction, intensity: intensity.callAsFunction, from: initial, at: times,
                options: ODESolverOptions(relativeTolerance: 1e-10, absoluteTolerance: 1e-12), gradient: gradient,
                parameters: parameters)
            let logLikelihood = poissonProcessLogLikelihood(
                intensity: intensity(solution.states[0]), eventMask: events,
                integratedIntensity: solution.states[1], windowEndMask: windowEnd)
            let result = gradients(of: -logLikelihood.sum(), withRespectTo: [initial] + parameters)
            try solution.backward.check()
            return result.map(\.scalars)
        }
        let direct = try lossGradients(.backpropagation)
        let adjoint = try lossGradients(.adjoint)
        for (a, b) in zip(direct, adjoint) {
            for (x, y) in zip(a, b) {
                // Both solve to 1e-10; the adjoint's backward solve adds an error of that order.
                #expect(abs(x - y) <= 1e-6 * max(1, abs(x)))
            }
        }
    }
}
