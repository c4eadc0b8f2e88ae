import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine
import Testing

/// The linear dynamics `f(z) = A z`, whose Jacobian is `A` everywhere.
final class CNFLinearField<Scalar: TensorScalar>: CNFVectorField {
    let dimension: Int
    @Parameter var matrix: Tensor<Scalar>

    init(matrix: [[Double]]) {
        dimension = matrix.count
        self.matrix = Tensor(shape: [matrix.count, matrix.count], scalars: matrix.flatMap { $0.map { Scalar($0) } })
    }

    func callAsFunction(_ t: Double, _ z: Tensor<Scalar>) -> Tensor<Scalar> {
        matmul(z, matrix, transposeB: true)
    }
}

/// Computes the rows `tanh(W z + b)`, with Jacobian `diag(1 - h²) W` and trace `Σᵢ (1 - hᵢ²) Wᵢᵢ`.
private func tanhLayer(_ z: Tensor<Double>, weight: Tensor<Double>, bias: Tensor<Double>) -> Tensor<Double> {
    (matmul(z, weight, transposeB: true) + bias).tanh()
}

@Suite("CNF trace estimators")
struct CNFTraceTests {
    static let matrix = [[0.3, -1.2, 0.5], [0.8, -0.7, 0.1], [0.2, 0.4, 0.25]]

    /// Solves the linear flow over [0, T] and returns the log-density change of every point.
    func linearLogDensityChange<Scalar: TensorScalar>(_: Scalar.Type, endTime: Double) throws -> [Double] {
        let flow = ContinuousNormalizingFlow(
            field: CNFLinearField<Scalar>(matrix: Self.matrix), startTime: 0, endTime: endTime,
            options: ODESolverOptions(relativeTolerance: 1e-8, absoluteTolerance: 1e-8))
        var generator = RandomGenerator(seed: 3)
        let points = Tensor<Scalar>(randomNormal: [4, 3], generator: &generator)
        let transport = try withoutGradients { try flow.transport(points, at: [0, endTime]) }
        return transport.finalLogDensityChange.doubles
    }

    @Test("linear flow changes log-density by -tr(A) T in Double")
    func linearFlowDouble() throws {
        let endTime = 2.0
        let expected = -(0.3 - 0.7 + 0.25) * endTime
        for change in try linearLogDensityChange(Double.self, endTime: endTime) {
            #expect(abs(change - expected) < 1e-12, "Δ = \(change), expected \(expected)")
        }
    }

    @Test("linear flow changes log-density by -tr(A) T in Float")
    func linearFlowFloat() throws {
        let endTime = 2.0
        let expected = -(0.3 - 0.7 + 0.25) * endTime
        for change in try linearLogDensityChange(Float.self, endTime: endTime) {
            // Float rounding of the accumulated sum over the steps.
            #expect(abs(change - expected) < 1e-5, "Δ = \(change), expected \(expected)")
        }
    }

    @Test("exact trace of a tanh layer matches the closed form")
    func exactTraceOfTanhLayer() {
        var generator = RandomGenerator(seed: 5)
        let weight = Tensor<Double>(randomNormal: [3, 3], generator: &generator)
        let bias = Tensor<Double>(randomNormal: [3], generator: &generator)
        let z = Tensor<Double>(randomNormal: [5, 3], generator: &generator).requiringGradient()
        let trace = exactJacobianTrace(
            of: tanhLayer(z, weight: weight, bias: bias), withRespectTo: z, createGraph: false)
        #expect(trace.shape == [5, 1])
        let h = withoutGradients { tanhLayer(z, weight: weight, bias: bias) }.doubles
        let w = weight.doubles
        for row in 0..<5 {
            let expected = (0..<3).reduce(0.0) { $0 + (1 - h[3 * row + $1] * h[3 * row + $1]) * w[4 * $1] }
            #expect(abs(trace.doubles[row] - expected) < 1e-14, "row \(row)")
        }
    }

    @Test("planar CNF closed-form trace equals the autodiff trace")
    func planarClosedFormTrace() throws {
        var generator = RandomGenerator(seed: 11)
        let field = PlanarCNFField<Double>(dimension: 3, width: 7, hiddenSize: 5, generator: &generator)
        let z = Tensor<Double>(randomNormal: [6, 3], generator: &generator).requiringGradient()
        for t in [0.0, 0.4, 2.5] {
            let pair = try #require(field.valueAndTrace(t, z))
            let value = field(t, z)
            let exact = exactJacobianTrace(of: value, withRespectTo: z, createGraph: false)
            for (a, b) in zip(pair.trace.doubles, exact.doubles) {
                #expect(abs(a - b) < 1e-14 * max(1, abs(b)), "t = \(t): \(a) vs \(b)")
            }
            for (a, b) in zip(pair.value.doubles, value.doubles) {
                #expect(a == b, "t = \(t)")
            }
        }
    }

    @Test("constant-parameter evaluation equals the field and records only z")
    func constantParameterEvaluation() {
        var generator = RandomGenerator(seed: 13)
        let fields: [any CNFVectorField<Double>] = [
            PlanarCNFField<Double>(dimension: 2, width: 5, hiddenSize: 4, generator: &generator),
            TimeConditionedMLPField<Double>(dimension: 2, hiddenSizes: [6, 6], generator: &generator),
        ]
        for field in fields {
            let z = Tensor<Double>(randomNormal: [4, 2], generator: &generator).requiringGradient()
            let value = field.valueWithConstantParameters(0.7, z)
            #expect(value.scalars == field(0.7, z).scalars, "\(type(of: field))")
            let results = gradients(of: value.sum(), withRespectTo: [z] + field.parameters)
            #expect(results[0].doubles.contains { $0 != 0 }, "\(type(of: field)): no gradient reaches z")
            for parameterGradient in results.dropFirst() {
                #expect(parameterGradient.doubles.allSatisfy { $0 == 0 }, "\(type(of: field)): a parameter was recorded")
            }
        }
    }

    @Test("Hutchinson estimate is unbiased within four standard errors", arguments: HutchinsonNoise.allCases)
    func hutchinsonUnbiased(noise: HutchinsonNoise) {
        // One point repeated in every row, so each row is an independent draw of ε.
        let draws = 20_000
        var generator = RandomGenerator(seed: 17)
        let weight = Tensor<Double>(randomNormal: [4, 4], generator: &generator)
        let bias = Tensor<Double>(randomNormal: [4], generator: &generator)
        let point = Tensor<Double>(randomNormal: [1, 4], generator: &generator)
        let z = point.broadcasted(to: [draws, 4]).detached().requiringGradient()
        let value = tanhLayer(z, weight: weight, bias: bias)
        let exact = exactJacobianTrace(of: value, withRespectTo: z, createGraph: false).doubles[0]

        let probes: Tensor<Double> = noise.sample(shape: [draws, 4], generator: &generator)
        let estimates = hutchinsonTraceEstimate(of: value, withRespectTo: z, noise: probes, createGraph: false).doubles
        let mean = estimates.reduce(0, +) / Double(draws)
        let variance = estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(draws - 1)
        let standardError = (variance / Double(draws)).squareRoot()
        #expect(standardError > 0, "the estimates do not vary")
        #expect(abs(mean - exact) < 4 * standardError, "mean \(mean) ± \(standardError), exact \(exact)")
    }

    @Test("Rademacher estimate of a diagonal Jacobian is exact")
    func rademacherOnDiagonal() {
        var generator = RandomGenerator(seed: 19)
        let z = Tensor<Double>(randomNormal: [8, 3], generator: &generator).requiringGradient()
        let value = z.tanh() * Tensor<Double>([0.5, -2, 3])
        let exact = exactJacobianTrace(of: value, withRespectTo: z, createGraph: false).doubles
        let probes: Tensor<Double> = HutchinsonNoise.rademacher.sample(shape: [8, 3], generator: &generator)
        let estimate = hutchinsonTraceEstimate(of: value, withRespectTo: z, noise: probes, createGraph: false).doubles
        for (a, b) in zip(estimate, exact) {
            #expect(abs(a - b) < 1e-14)
        }
    }

    @Test("noise draws have mean zero and unit variance", arguments: HutchinsonNoise.allCases)
    func noiseMoments(noise: HutchinsonNoise) {
        var generator = RandomGenerator(seed: 23)
        let values: Tensor<Double> = noise.sample(shape: [100_000], generator: &generator)
        let mean = values.doubles.reduce(0, +) / 100_000
        let secondMoment = values.doubles.reduce(0) { $0 + $1 * $1 } / 100_000
        // Standard errors: 1/√n ≈ 0.0032 for the mean, √(2/n) ≈ 0.0045 for the Gaussian second moment.
        #expect(abs(mean) < 0.015)
        #expect(abs(secondMoment - 1) < 0.02)
        if noise == .rademacher {
            #expect(values.doubles.allSatisfy { $0 == 1 || $0 == -1 })
        }
    }
}
