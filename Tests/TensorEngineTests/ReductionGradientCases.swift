import TensorEngine

// Random normal inputs have no ties, so max and min are smooth at the checked points and their
// second derivatives (zero) are checked too. The tie rule has its own test.
let reductionGradientCases: [GradientCase] = [
    // Maximum and minimum
    GradientCase(name: "max along consecutive axes", covers: ["max"], inputShapes: [[2, 3, 4]], domain: .any) {
        $0[0].max(alongAxes: [1, 2]).squared()
    },
    GradientCase(name: "max along separated axes", covers: ["max"], inputShapes: [[3, 2, 4]], domain: .any) {
        $0[0].max(alongAxes: [0, -1]).squared()
    },
    GradientCase(name: "max kept dims times input", covers: ["max"], inputShapes: [[3, 4]], domain: .any) {
        $0[0] * $0[0].max(alongAxis: 0, keepingDimensions: true)
    },
    GradientCase(name: "max of all values", covers: ["max"], inputShapes: [[2, 3]], domain: .any) {
        $0[0].max() * $0[0]
    },
    GradientCase(name: "min along inner axis", covers: ["min"], inputShapes: [[2, 5, 3]], domain: .any) {
        $0[0].min(alongAxis: 1).squared()
    },
    GradientCase(name: "min of all values", covers: ["min"], inputShapes: [[4]], domain: .any) {
        $0[0].min() * $0[0]
    },

    // Log-sum-exp
    GradientCase(name: "logSumExp last axis", covers: ["logSumExp"], inputShapes: [[3, 4]], domain: .any) {
        $0[0].logSumExp(alongAxis: -1)
    },
    GradientCase(name: "logSumExp middle axis kept", covers: ["logSumExp"], inputShapes: [[2, 3, 4]], domain: .any) {
        $0[0].logSumExp(alongAxis: 1, keepingDimensions: true) * $0[0]
    },
    GradientCase(name: "logSumExp separated axes", covers: ["logSumExp"], inputShapes: [[2, 3, 2]], domain: .any) {
        $0[0].logSumExp(alongAxes: [0, 2])
    },
    GradientCase(name: "logSumExp of all values", covers: ["logSumExp"], inputShapes: [[2, 3]], domain: .any) {
        $0[0].logSumExp()
    },

    // Variance
    GradientCase(name: "variance along axis", covers: ["variance"], inputShapes: [[3, 5]], domain: .any) {
        $0[0].variance(alongAxis: 1)
    },
    GradientCase(name: "variance separated axes kept", covers: ["variance"], inputShapes: [[2, 3, 4]], domain: .any) {
        $0[0].variance(alongAxes: [0, 2], keepingDimensions: true).squared()
    },
    GradientCase(name: "variance standardises", covers: ["variance", "sqrt"], inputShapes: [[4, 3]], domain: .any) {
        let x = $0[0]
        let centered = x - x.mean(alongAxis: 0, keepingDimensions: true)
        return centered / (x.variance(alongAxis: 0, keepingDimensions: true) + 0.1).sqrt()
    },
    GradientCase(name: "variance of all values", covers: ["variance"], inputShapes: [[6]], domain: .any) {
        $0[0].variance()
    },

    // Softmax family
    GradientCase(name: "logSoftmax last axis", covers: ["logSoftmax", "logSoftmax pullback"], inputShapes: [[3, 4]], domain: .any) {
        $0[0].logSoftmax(alongAxis: 1)
    },
    GradientCase(name: "logSoftmax outer axis", covers: ["logSoftmax", "logSoftmax pullback"], inputShapes: [[3, 2, 2]], domain: .any) {
        $0[0].logSoftmax(alongAxis: 0)
    },
    GradientCase(name: "logSoftmax times broadcast", covers: ["logSoftmax"], inputShapes: [[2, 4], [4]], domain: .any) {
        ($0[0] * $0[1]).logSoftmax(alongAxis: -1)
    },
    GradientCase(name: "softmax last axis", covers: ["softmax", "softmax pullback"], inputShapes: [[3, 4]], domain: .any) {
        $0[0].softmax(alongAxis: -1)
    },
    GradientCase(name: "softmax middle axis", covers: ["softmax", "softmax pullback"], inputShapes: [[2, 3, 2]], domain: .any) {
        $0[0].softmax(alongAxis: 1)
    },
    GradientCase(name: "softmax plus broadcast column", covers: ["softmax"], inputShapes: [[3, 4], [3, 1]], domain: .any) {
        ($0[0] + $0[1]).softmax(alongAxis: 0)
    },
]
