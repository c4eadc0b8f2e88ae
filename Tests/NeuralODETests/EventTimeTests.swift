import Foundation
import NeuralODE
import ODESolvers
import TensorEngine
import Testing

@Suite("Differentiable event times")
struct EventTimeTests {
    @Test(
        "a falling ball's impact time has the analytic gradient",
        arguments: [GradientMethod.backpropagation, .adjoint])
    func fallingBall(_ gradient: GradientMethod) throws {
        // Height h and velocity v with h' = v, v' = -g; the ball lands at
        // t* = (v0 + sqrt(v0² + 2 g h0)) / g, so dt*/dh0 = 1 / s and dt*/dv0 = (1 + v0 / s) / g
        // with s = sqrt(v0² + 2 g h0); the impact velocity is v0 - g t*.
        let g = 9.81
        let (h0, v0) = (10.0, 2.0)
        let start = Tensor<Double>(shape: [1, 2], scalars: [h0, v0]).requiringGradient()
        let shift = Tensor<Double>(shape: [2, 2], scalars: [0, 0, 1, 0])
        let gravity = Tensor<Double>(shape: [2], scalars: [0, -g])
        let options = ODESolverOptions(relativeTolerance: 1e-10, absoluteTolerance: 1e-10)
        let result = try #require(
            try solveODE(
                { _, y in matmul(y, shift) + gravity }, start, from: 0,
                until: { _, y in y.slice(alongAxis: 1, 0..<1).sum() }, direction: .decreasing,
                endTime: 10, options: options, gradient: gradient))

        let s = (v0 * v0 + 2 * g * h0).squareRoot()
        let impact = (v0 + s) / g
        #expect(Swift.abs(result.time.scalar - impact) < 1e-9)
        let timeGradient = gradients(of: result.time, withRespectTo: [start])[0].doubles
        #expect(Swift.abs(timeGradient[0] - 1 / s) < 1e-7, "dt*/dh0 \(timeGradient[0]) vs \(1 / s)")
        #expect(Swift.abs(timeGradient[1] - (1 + v0 / s) / g) < 1e-7, "dt*/dv0 \(timeGradient[1])")

        let velocity = result.state.slice(alongAxis: 1, 1..<2).sum()
        #expect(Swift.abs(velocity.scalar - (v0 - g * impact)) < 1e-8)
        let velocityGradient = gradients(of: velocity, withRespectTo: [start])[0].doubles
        #expect(Swift.abs(velocityGradient[0] - (-g / s)) < 1e-6, "dv*/dh0 \(velocityGradient[0])")
        #expect(Swift.abs(velocityGradient[1] - (1 - (1 + v0 / s))) < 1e-6, "dv*/dv0 \(velocityGradient[1])")
    }

    @Test("no crossing before the end time returns nil")
    func noCrossing() throws {
        let start = Tensor<Double>([1])
        let result = try solveODE(
            { _, y in -y }, start, from: 0, until: { _, y in y.sum() - 0.5 }, endTime: 0.5)
        #expect(result == nil)
    }
}
