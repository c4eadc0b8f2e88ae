import NeuralNetworks
import TensorEngine
import Testing

/// Two steps on θ = [1, −2] with gradients g₁ = [0.5, 1] and g₂ = [1, −1]. The expected values
/// evaluate PyTorch's documented update rules (PyTorch 1.13 documentation of `SGD`, `Adam`
/// and `RMSprop`) by hand in double precision. The comment of each test derives its first
/// step.
private let firstGradient: [Double] = [0.5, 1]
private let secondGradient: [Double] = [1, -1]

/// Runs `optimizer` for the two steps and returns θ after each.
private func twoSteps<Scalar>(
    _ makeOptimizer: ([(name: String, tensor: Tensor<Scalar>)]) -> Optimizer<Scalar>
) -> (first: [Double], second: [Double], optimizer: Optimizer<Scalar>) {
    let parameter = Tensor<Scalar>([1, -2])
    let optimizer = makeOptimizer([("theta", parameter)])
    optimizer.step(gradients: [Tensor(firstGradient.map { Scalar($0) })])
    let first = parameter.doubles
    optimizer.step(gradients: [Tensor(secondGradient.map { Scalar($0) })])
    return (first, parameter.doubles, optimizer)
}

@Suite("Optimizers")
struct OptimizerTests {
    // MARK: - SGD

    @Test("SGD without momentum subtracts the scaled gradient")
    func sgdPlain() {
        let (first, second, _) = twoSteps { SGD<Double>(parameters: $0, learningRate: 0.1) }
        #expect(isClose(first, [0.95, -2.1]))
        #expect(isClose(second, [0.85, -2.0]))
    }

    @Test("SGD with momentum and weight decay follows PyTorch's rule")
    func sgdMomentum() throws {
        let (first, second, optimizer) = twoSteps {
            SGD<Double>(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
        }
        // g = g₁ + 0.01 θ = [0.51, 0.98]; b = g; θ − 0.1 b = [0.949, −2.098].
        #expect(isClose(first, [0.949, -2.098]))
        // g = [1.00949, −1.02098]; b = 0.9 b + g = [1.46849, −0.13898]; θ − 0.1 b.
        #expect(isClose(second, [0.802151, -2.084102]))
        let state = try #require(optimizer.state(ofParameter: "theta"))
        #expect(state.step == 2)
        #expect(isClose(try #require(state.buffers["momentum_buffer"]).scalars, [1.46849, -0.13898]))
    }

    @Test("SGD with Nesterov momentum looks ahead along the buffer")
    func sgdNesterov() {
        let (first, second, _) = twoSteps {
            SGD<Double>(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01, nesterov: true)
        }
        // g = [0.51, 0.98]; b = g; step direction g + 0.9 b = [0.969, 1.862].
        #expect(isClose(first, [0.9031, -2.1862]))
        // g = [1.009031, −1.021862]; b = [1.468031, −0.139862]; g + 0.9 b = [2.3302589, −1.1477378].
        #expect(isClose(second, [0.67007411, -2.07142622]))
    }

    @Test("SGD dampening scales the gradient added to the buffer after the first step")
    func sgdDampening() {
        let (first, second, _) = twoSteps {
            SGD<Double>(parameters: $0, learningRate: 0.1, momentum: 0.5, dampening: 0.5)
        }
        // The first buffer is the undamped gradient: b = [0.5, 1].
        #expect(isClose(first, [0.95, -2.1]))
        // b = 0.5 b + 0.5 g₂ = [0.75, 0]; θ − 0.1 b.
        #expect(isClose(second, [0.875, -2.1]))
    }

    // MARK: - Adam

    @Test("Adam follows the bias-corrected update")
    func adam() throws {
        let (first, second, optimizer) = twoSteps { Adam<Double>(parameters: $0, learningRate: 0.1) }
        // m̂ = g₁ and v̂ = g₁² after bias correction, so θ − 0.1 g / (|g| + 1e-8).
        #expect(isClose(first, [1 - 0.1 * 0.5 / (0.5 + 1e-8), -2 - 0.1 / (1 + 1e-8)]))
        #expect(isClose(second, [0.8034818006385094, -2.0947368411578946]))
        let state = try #require(optimizer.state(ofParameter: "theta"))
        #expect(state.step == 2)
        // m = 0.9 · 0.1 g₁ + 0.1 g₂; v = 0.999 · 0.001 g₁² + 0.001 g₂².
        #expect(isClose(try #require(state.buffers["exp_avg"]).scalars, [0.145, -0.01]))
        #expect(isClose(try #require(state.buffers["exp_avg_sq"]).scalars, [0.00124975, 0.001999]))
    }

    @Test("Adam adds weight decay to the gradient")
    func adamWeightDecay() {
        let (first, second, _) = twoSteps {
            Adam<Double>(parameters: $0, learningRate: 0.1, weightDecay: 0.1)
        }
        // g = g₁ + 0.1 θ = [0.6, 0.8]; the first step is still 0.1 · g / (|g| + 1e-8).
        #expect(isClose(first, [1 - 0.1 * 0.6 / (0.6 + 1e-8), -2 - 0.1 * 0.8 / (0.8 + 1e-8)]))
        #expect(isClose(second, [0.8025029703202308, -2.074859045356938]))
    }

    @Test("Adam in Float agrees with the Double values")
    func adamFloat() {
        let (_, second, _) = twoSteps { Adam<Float>(parameters: $0, learningRate: 0.1) }
        // Float rounding of θ and the moments: a few units in the 7th digit.
        #expect(isClose(second, [0.8034818006385094, -2.0947368411578946], tolerance: 1e-6))
    }

    // MARK: - RMSprop

    @Test("RMSprop divides by the root mean square of gradients")
    func rmsprop() {
        let (first, second, _) = twoSteps { RMSprop<Double>(parameters: $0, learningRate: 0.01) }
        // v = 0.01 g², so the first step is 0.01 g / (0.1 |g| + 1e-8).
        #expect(isClose(first, [1 - 0.01 * 0.5 / (0.05 + 1e-8), -2 - 0.01 / (0.1 + 1e-8)]))
        #expect(isClose(second, [0.8104677318088583, -2.029111874524293]))
    }

    @Test("RMSprop centered with momentum and weight decay")
    func rmspropCentered() throws {
        let (first, second, optimizer) = twoSteps {
            RMSprop<Double>(
                parameters: $0, learningRate: 0.01, momentum: 0.9, weightDecay: 0.1, centered: true)
        }
        // g = g₁ + 0.1 θ = [0.6, 0.8]; ṽ = 0.01 g² − (0.01 g)² = 0.0099 g²; b = g / (√ṽ + ε),
        // about ±10.05, so θ moves by about 0.1005.
        #expect(isClose(first, [0.8994962353090928, -2.10050376889966]))
        #expect(isClose(second, [0.7205206840409757, -2.1073775991692787]))
        let state = try #require(optimizer.state(ofParameter: "theta"))
        #expect(Set(state.buffers.keys) == ["square_avg", "grad_avg", "momentum_buffer"])
    }

    // MARK: - Common behaviour

    @Test("learning rate changes between steps take effect")
    func learningRateChange() {
        let parameter = Tensor<Double>([1])
        let optimizer = SGD<Double>(parameters: [("p", parameter)], learningRate: 0.1)
        optimizer.step(gradients: [Tensor([1])])
        optimizer.learningRate = 0.01
        optimizer.step(gradients: [Tensor([1])])
        #expect(isClose(parameter.scalars, [0.89]))
        #expect(optimizer.stepCount == 2)
    }

    @Test("step reads backward's gradients and skips parameters without one")
    func stepFromBackward() throws {
        let used = Tensor<Double>([2, 3]).requiringGradient()
        let unused = Tensor<Double>([5]).requiringGradient()
        let optimizer = Adam<Double>(parameters: [("used", used), ("unused", unused)], learningRate: 0.1)
        (used * used).sum().backward()
        #expect(used.gradient?.scalars == [4, 6])
        optimizer.step()
        #expect(isClose(used.scalars, [1.9, 2.9], tolerance: 1e-8))
        #expect(unused.scalars == [5])
        #expect(try #require(optimizer.state(ofParameter: "unused")).step == 0)
        #expect(try #require(optimizer.state(ofParameter: "unused")).buffers.isEmpty)
        optimizer.zeroGradients()
        #expect(used.gradient == nil)
    }

    @Test("optimizers train a module's named parameters")
    func moduleParameters() {
        var generator = RandomGenerator(seed: 21)
        let layer = Linear<Float>(inputSize: 3, outputSize: 2, generator: &generator)
        let optimizer = SGD(parameters: layer.namedParameters, learningRate: 0.5)
        #expect(optimizer.namedParameters.map(\.name) == ["weight", "bias"])
        let input = Tensor<Float>(randomNormal: [8, 3], generator: &generator)
        func loss() -> Tensor<Float> { layer(input).squared().mean() }
        let before = loss().scalar
        optimizer.step(gradients: gradients(of: loss(), withRespectTo: optimizer.parameters))
        #expect(loss().scalar < before)
    }

    @Test("Nesterov without momentum is rejected")
    func nesterovPrecondition() async {
        await #expect(processExitsWith: .failure) {
            _ = SGD<Float>(parameters: [("p", Tensor([1]))], learningRate: 0.1, nesterov: true)
        }
    }

    @Test("a gradient of the wrong shape is rejected")
    func gradientShapePrecondition() async {
        await #expect(processExitsWith: .failure) {
            let optimizer = Adam<Float>(parameters: [("p", Tensor([1, 2]))])
            optimizer.step(gradients: [Tensor([1, 2, 3])])
        }
    }
}
