/// One recorded operation: its inputs and the function that maps the cotangent of its output
/// to cotangents of its inputs (the vector-Jacobian product).
///
/// Pullbacks are written with differentiable tensor operations, so running them with recording
/// on records the backward pass itself, and gradients of gradients follow.
final class GradientNode<Scalar: TensorScalar> {
    let operation: StaticString
    let inputs: [Tensor<Scalar>]
    /// Returns one cotangent per input, `nil` where the input needs none.
    let pullback: (Tensor<Scalar>) -> [Tensor<Scalar>?]

    init(
        operation: StaticString, inputs: [Tensor<Scalar>],
        pullback: @escaping (Tensor<Scalar>) -> [Tensor<Scalar>?]
    ) {
        self.operation = operation
        self.inputs = inputs
        self.pullback = pullback
    }
}

extension Tensor {
    /// Marks this tensor as a leaf whose gradient is wanted, and returns it.
    @discardableResult
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func requiringGradient() -> Tensor {
        precondition(
            gradientNode == nil,
            "requiringGradient(): only a leaf can be marked; this tensor is the result of a recorded operation. Call detached() first."
        )
        isGradientLeaf = true
        return self
    }

    /// Returns a tensor with the same values that is cut from the recorded graph.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func detached() -> Tensor {
        Tensor(viewOf: self, shape: shape)
    }

    /// True when an operation on `inputs` should be recorded.
    @inline(__always)
    static func shouldRecord(_ a: Tensor) -> Bool {
        a.requiresGradient && GradientMode.isEnabled
    }

    @inline(__always)
    static func shouldRecord(_ a: Tensor, _ b: Tensor) -> Bool {
        (a.requiresGradient || b.requiresGradient) && GradientMode.isEnabled
    }

    static func shouldRecord(_ inputs: [Tensor]) -> Bool {
        GradientMode.isEnabled && inputs.contains { $0.requiresGradient }
    }

    /// Attaches a recorded operation to this freshly computed result, and returns it.
    ///
    /// A pullback that uses the result must capture it `[unowned result]`: the result owns the
    /// node that owns the pullback, so a strong capture is a reference cycle that keeps the whole
    /// recorded graph alive. The pullback only runs while the result is alive.
    @inline(__always)
    func recorded(
        _ operation: StaticString, _ inputs: [Tensor],
        pullback: @escaping (Tensor) -> [Tensor?]
    ) -> Tensor {
        gradientNode = GradientNode(operation: operation, inputs: inputs, pullback: pullback)
        return self
    }
}

// MARK: - Reverse pass

/// Computes vector-Jacobian products of `outputs` with respect to `inputs`.
///
/// The result for input `x` is `Σ_k seeds[k]ᵀ · ∂outputs[k]/∂x`. With `createGraph`, the
/// backward pass is itself recorded, so the returned gradients can be differentiated again.
///
/// - Parameters:
///   - outputs: Tensors to differentiate.
///   - inputs: Tensors to differentiate with respect to; any tensors in the graph, leaves or not.
///   - seeds: One cotangent per output with the output's shape; default: ones.
///   - createGraph: Record the backward pass for higher derivatives. Default `false`.
/// - Returns: One gradient per input; zeros where the input does not affect the outputs.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func gradients<Scalar>(
    of outputs: [Tensor<Scalar>], withRespectTo inputs: [Tensor<Scalar>],
    seeds: [Tensor<Scalar>]? = nil, createGraph: Bool = false
) -> [Tensor<Scalar>] {
    if let seeds {
        precondition(
            seeds.count == outputs.count,
            "gradients(of:withRespectTo:seeds:): \(outputs.count) outputs but \(seeds.count) seeds")
        for (output, seed) in zip(outputs, seeds) {
            precondition(
                output.shape == seed.shape,
                "gradients(of:withRespectTo:seeds:): seed shape \(seed.shape) differs from output shape \(output.shape)"
            )
        }
    }
    var accumulated: [ObjectIdentifier: Tensor<Scalar>] = [:]
    let order = topologicalOrder(from: outputs)

    for (index, output) in outputs.enumerated() {
        let seed = seeds?[index] ?? Tensor<Scalar>(ones: output.shape)
        accumulate(seed, into: &accumulated, for: output)
    }

    withGradientMode(enabled: createGraph) {
        // Reverse topological order visits a tensor after every tensor computed from it.
        for tensor in order.reversed() {
            guard let node = tensor.gradientNode,
                let cotangent = accumulated[ObjectIdentifier(tensor)]
            else { continue }
            let inputCotangents = node.pullback(cotangent)
            for (input, inputCotangent) in zip(node.inputs, inputCotangents) {
                guard let inputCotangent, input.requiresGradient else { continue }
                precondition(
                    inputCotangent.shape == input.shape,
                    "gradients: the pullback of \(node.operation) returned shape \(inputCotangent.shape) for an input of shape \(input.shape)"
                )
                accumulate(inputCotangent, into: &accumulated, for: input)
            }
        }
    }
    return inputs.map { accumulated[ObjectIdentifier($0)] ?? Tensor<Scalar>(zeros: $0.shape) }
}

/// Computes the vector-Jacobian product of one output with respect to `inputs`.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
public func gradients<Scalar>(
    of output: Tensor<Scalar>, withRespectTo inputs: [Tensor<Scalar>],
    seed: Tensor<Scalar>? = nil, createGraph: Bool = false
) -> [Tensor<Scalar>] {
    gradients(
        of: [output], withRespectTo: inputs, seeds: seed.map { [$0] }, createGraph: createGraph)
}

extension Tensor {
    /// Accumulates the gradient of this tensor into `gradient` of every leaf it depends on.
    ///
    /// - Parameter seed: The cotangent of this tensor; default: ones (for a scalar loss, 1).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func backward(seed: Tensor? = nil) {
        let leaves = topologicalOrder(from: [self]).filter { $0.isGradientLeaf }
        let results = gradients(of: [self], withRespectTo: leaves, seeds: seed.map { [$0] })
        withoutGradients {
            for (leaf, gradient) in zip(leaves, results) {
                leaf.gradient = leaf.gradient.map { $0 + gradient } ?? gradient
            }
        }
    }
}

private func accumulate<Scalar>(
    _ cotangent: Tensor<Scalar>, into table: inout [ObjectIdentifier: Tensor<Scalar>],
    for tensor: Tensor<Scalar>
) {
    let key = ObjectIdentifier(tensor)
    if let existing = table[key] {
        table[key] = existing + cotangent
    } else {
        table[key] = cotangent
    }
}

/// Orders the recorded graph behind `outputs` so that every tensor comes after its inputs.
///
/// Iterative, because a solve with thousands of steps records a graph far deeper than the
/// call stack allows for recursion.
func topologicalOrder<Scalar>(from outputs: [Tensor<Scalar>]) -> [Tensor<Scalar>] {
    var order: [Tensor<Scalar>] = []
    var visited = Set<ObjectIdentifier>()
    var stack: [(tensor: Tensor<Scalar>, expanded: Bool)] = []
    for output in outputs where output.requiresGradient {
        stack.append((output, false))
    }
    while let (tensor, expanded) = stack.popLast() {
        if expanded {
            order.append(tensor)
            continue
        }
        guard visited.insert(ObjectIdentifier(tensor)).inserted else { continue }
        stack.append((tensor, true))
        if let node = tensor.gradientNode {
            for input in node.inputs
            where input.requiresGradient && !visited.contains(ObjectIdentifier(input)) {
                stack.append((input, false))
            }
        }
    }
    return order
}
