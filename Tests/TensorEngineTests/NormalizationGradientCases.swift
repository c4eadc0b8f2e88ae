import TensorEngine

let normalizationGradientCases: [GradientCase] = [
    GradientCase(
        name: "groupNormalized on images", covers: ["normalize"],
        inputShapes: [[2, 6, 2, 3]], domain: .any
    ) { $0[0].groupNormalized(groupCount: 3) },
    GradientCase(
        name: "groupNormalized one group per channel", covers: ["normalize"],
        inputShapes: [[3, 2, 5]], domain: .any
    ) { $0[0].groupNormalized(groupCount: 2) },
    // tanh makes the cotangent of the normalisation depend on the input, so the second-order
    // check differentiates the recorded pullback in both its arguments.
    GradientCase(
        name: "groupNormalized through tanh", covers: ["normalize"],
        inputShapes: [[2, 4, 3]], domain: .any
    ) { $0[0].groupNormalized(groupCount: 2).tanh() },
    GradientCase(
        name: "batchNormalized images", covers: ["normalize"],
        inputShapes: [[4, 3, 2, 2]], domain: .any
    ) { $0[0].batchNormalized(alongAxes: [0, 2, 3]).output },
    GradientCase(
        name: "batchNormalized features", covers: ["normalize"],
        inputShapes: [[5, 3]], domain: .any
    ) { $0[0].batchNormalized(alongAxes: [0]).output.tanh() },
    GradientCase(
        name: "batchNormalized statistics",
        covers: ["batchNormalized mean", "batchNormalized variance"],
        inputShapes: [[4, 3, 2]], domain: .any
    ) { x in
        let normalized = x[0].batchNormalized(alongAxes: [0, 2])
        return normalized.mean * normalized.variance + normalized.mean.squared()
    },
    GradientCase(
        name: "batchNormalized middle axis", covers: ["sum", "subtract", "square"],
        inputShapes: [[2, 4, 3]], domain: .any
    ) { x in
        let normalized = x[0].batchNormalized(alongAxes: [1])
        return normalized.output + normalized.variance * normalized.mean
    },
    GradientCase(
        name: "batchNormalized with given statistics", covers: ["subtract", "sqrt", "reciprocal"],
        inputShapes: [[3, 2, 2], [1, 2, 1], [1, 2, 1]], domain: .positive
    ) { $0[0].batchNormalized(mean: $0[1], variance: $0[2]) },
]
