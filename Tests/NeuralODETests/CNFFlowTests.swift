import Foundation
import NeuralNetworks
import NeuralODE
import ODESolvers
import TensorEngine
import Testing

@Suite("Continuous normalizing flows")
struct CNFFlowTests {
    static let tight = ODESolverOptions(relativeTolerance: 1e-10, absoluteTolerance: 1e-10)

    /// Makes a two-dimensional flow whose map is far from the identity over [0, 4].
    func makeMLPFlow(estimator: TraceEstimator = .exact) -> ContinuousNormalizingFlow<TimeConditionedMLPField<Double>> {
        var generator = RandomGenerator(seed: 31)
        let field = TimeConditionedMLPField<Double>(dimension: 2, hiddenSizes: [8], generator: &generator)
        return ContinuousNormalizingFlow(
            field: field, startTime: 0, endTime: 4, traceEstimator: estimator, options: Self.tight)
    }

    @Test("log-density equals the change of variables of the flow map")
    func changeOfVariables() throws {
        let flow = makeMLPFlow()
        let z0 = Tensor<Double>(shape: [3, 2], scalars: [0.3, -0.8, 1.1, 0.4, -0.6, -1.3])
        let (x, sampleLogDensity, _) = try withoutGradients { try flow.sample(from: z0) }
        let logDensity = try withoutGradients { try flow.logDensity(of: x).logDensity }

        // The Jacobian of z0 ↦ x by central differences, one column per coordinate of z0.
        let step = 1e-5
        var jacobians = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 3)
        for column in 0..<2 {
            var plus = z0.doubles
            var minus = z0.doubles
            for row in 0..<3 {
                plus[2 * row + column] += step
                minus[2 * row + column] -= step
            }
            let forward = try withoutGradients { try flow.sample(from: Tensor(shape: [3, 2], scalars: plus)).samples }
            let backward = try withoutGradients { try flow.sample(from: Tensor(shape: [3, 2], scalars: minus)).samples }
            for row in 0..<3 {
                for output in 0..<2 {
                    let derivative = (forward.doubles[2 * row + output] - backward.doubles[2 * row + output]) / (2 * step)
                    jacobians[row][2 * output + column] = derivative
                }
            }
        }
        let base = flow.baseLogDensity(z0).doubles
        var largestLogDeterminant = 0.0
        for row in 0..<3 {
            let j = jacobians[row]
            let determinant = j[0] * j[3] - j[1] * j[2]
            let expected = base[row] - log(abs(determinant))
            largestLogDeterminant = max(largestLogDeterminant, abs(log(abs(determinant))))
            #expect(abs(logDensity.doubles[row] - expected) < 1e-6, "row \(row): \(logDensity.doubles[row]) vs \(expected)")
            #expect(abs(sampleLogDensity.doubles[row] - expected) < 1e-6, "row \(row): sampling gives \(sampleLogDensity.doubles[row])")
        }
        #expect(largestLogDeterminant > 0.1, "the test flow is nearly volume-preserving, so the test proves little")
    }

    @Test("sampling and density evaluation invert each other")
    func roundTrip() throws {
        var generator = RandomGenerator(seed: 37)
        let field = PlanarCNFField<Float>(dimension: 2, width: 16, hiddenSize: 8, generator: &generator)
        let flow = ContinuousNormalizingFlow(
            field: field, startTime: 0, endTime: 3, traceEstimator: .exact,
            options: ODESolverOptions(relativeTolerance: 1e-6, absoluteTolerance: 1e-6))
        let z0 = flow.sampleBase(count: 64, generator: &generator)
        let (x, sampleLogDensity, _) = try withoutGradients { try flow.sample(from: z0) }
        let (logDensity, back) = try withoutGradients { try flow.logDensity(of: x) }
        let moved = zip(x.doubles, z0.doubles).map { abs($0 - $1) }.max()!
        #expect(moved > 1e-2, "the flow barely moves the points (\(moved)), so the test proves little")
        for (a, b) in zip(back.finalPoints.doubles, z0.doubles) {
            #expect(abs(a - b) < 1e-4, "\(a) vs \(b)")
        }
        for (a, b) in zip(logDensity.doubles, sampleLogDensity.doubles) {
            #expect(abs(a - b) < 1e-4, "\(a) vs \(b)")
        }
    }

    @Test("closed-form and autodiff traces give the same log-density")
    func closedFormMatchesExact() throws {
        var generator = RandomGenerator(seed: 41)
        let field = PlanarCNFField<Double>(dimension: 2, width: 8, hiddenSize: 6, generator: &generator)
        let x = Tensor<Double>(randomNormal: [5, 2], generator: &generator)
        var results: [[Double]] = []
        for estimator in [TraceEstimator.exact, .closedForm] {
            let flow = ContinuousNormalizingFlow(
                field: field, startTime: 0, endTime: 2, traceEstimator: estimator, options: Self.tight)
            results.append(try withoutGradients { try flow.logDensity(of: x).logDensity.doubles })
        }
        for (a, b) in zip(results[0], results[1]) {
            #expect(abs(a - b) < 1e-9, "\(a) vs \(b)")
        }
    }

    /// `-mean log p(x)` and its gradient with respect to every parameter of `flow`.
    func negativeLogLikelihood<Field: CNFVectorField>(
        _ flow: ContinuousNormalizingFlow<Field>, _ x: Tensor<Double>
    ) throws -> (loss: Double, gradients: [[Double]]) where Field.Scalar == Double {
        let (logDensity, transport) = try flow.logDensity(of: x)
        let loss = -logDensity.mean()
        let result = gradients(of: loss, withRespectTo: flow.field.parameters)
        try transport.solution.backward.check()
        return (loss.scalar, result.map(\.doubles))
    }

    @Test(
        "loss gradient through the trace agrees across adjoint, backpropagation and finite differences",
        arguments: [TraceEstimator.exact, .closedForm, .hutchinson(.rademacher)])
    func gradientThroughTrace(estimator: TraceEstimator) throws {
        var generator = RandomGenerator(seed: 43)
        let field = PlanarCNFField<Double>(dimension: 2, width: 3, hiddenSize: 4, generator: &generator)
        let x = Tensor<Double>(randomNormal: [4, 2], generator: &generator)
        // The same noise seed gives Hutchinson's estimator the same probes in every solve.
        func flow(_ gradient: GradientMethod) -> ContinuousNormalizingFlow<PlanarCNFField<Double>> {
            ContinuousNormalizingFlow(
                field: field, startTime: 0, endTime: 1.5, traceEstimator: estimator, options: Self.tight,
                gradient: gradient, noiseSeed: 5)
        }
        let adjoint = try negativeLogLikelihood(flow(.adjoint), x)
        let backpropagation = try negativeLogLikelihood(flow(.backpropagation), x)
        #expect(abs(adjoint.loss - backpropagation.loss) < 1e-12)

        let parameters = field.parameters
        let step = 1e-5
        var checked = 0
        for (index, parameter) in parameters.enumerated() {
            for position in stride(from: 0, to: parameter.scalarCount, by: max(1, parameter.scalarCount / 5)) {
                let original = parameter.doubles[position]
                func loss(at value: Double) throws -> Double {
                    parameter.withUnsafeMutableBufferPointer { $0[position] = value }
                    return try withoutGradients { try -flow(.adjoint).logDensity(of: x).logDensity.mean().scalar }
                }
                let numeric = (try loss(at: original + step) - loss(at: original - step)) / (2 * step)
                parameter.withUnsafeMutableBufferPointer { $0[position] = original }
                let a = adjoint.gradients[index][position]
                let b = backpropagation.gradients[index][position]
                let scale = max(1e-3, abs(numeric))
                #expect(abs(a - numeric) < 1e-6 * max(1, scale) + 1e-7, "parameter \(index)[\(position)]: adjoint \(a) vs numeric \(numeric)")
                #expect(abs(b - numeric) < 1e-6 * max(1, scale) + 1e-7, "parameter \(index)[\(position)]: backpropagation \(b) vs numeric \(numeric)")
                #expect(abs(a - b) < 1e-7 * max(1, scale), "parameter \(index)[\(position)]: adjoint \(a) vs backpropagation \(b)")
                checked += 1
            }
        }
        #expect(checked >= 20)
        #expect(adjoint.gradients.flatMap { $0 }.contains { abs($0) > 1e-4 }, "every gradient is near zero")
    }

    @Test("closed-form trace on a field without one stops with a message")
    func closedFormNeedsField() async {
        await #expect(processExitsWith: .failure) {
            var generator = RandomGenerator(seed: 1)
            let field = TimeConditionedMLPField<Double>(dimension: 2, hiddenSizes: [4], generator: &generator)
            _ = ContinuousNormalizingFlow(field: field, traceEstimator: .closedForm)
        }
    }

    @Test("points of the wrong dimension stop with a message")
    func wrongDimension() async {
        await #expect(processExitsWith: .failure) {
            var generator = RandomGenerator(seed: 1)
            let field = PlanarCNFField<Double>(dimension: 2, width: 4, hiddenSize: 4, generator: &generator)
            let flow = ContinuousNormalizingFlow(field: field)
            _ = try? flow.logDensity(of: Tensor<Double>(zeros: [3, 3]))
        }
    }
}
