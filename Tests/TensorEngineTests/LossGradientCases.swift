import TensorEngine

let lossGradientCases: [GradientCase] = [
    GradientCase(name: "cross-entropy mean", covers: ["crossEntropy"], inputShapes: [[4, 3]], domain: .any) {
        crossEntropy(logits: $0[0], labels: [0, 2, 1, 2])
    },
    GradientCase(name: "cross-entropy sum of scaled logits", covers: ["crossEntropy"], inputShapes: [[3, 5], [5]], domain: .any) {
        crossEntropy(logits: $0[0] * $0[1], labels: [4, 0, 4], reduction: .sum)
    },
    GradientCase(name: "mean squared error", covers: ["meanSquaredError"], inputShapes: [[2, 3], [2, 3]], domain: .any) {
        meanSquaredError($0[0], $0[1])
    },
    GradientCase(name: "sum squared error of products", covers: ["meanSquaredError"], inputShapes: [[4], [4]], domain: .any) {
        meanSquaredError($0[0] * $0[1], $0[1], reduction: .sum)
    },
    GradientCase(name: "Gaussian log-density same shape", covers: ["gaussianLogDensity"], inputShapes: [[2, 3], [2, 3], [2, 3]], domain: .any) {
        gaussianLogDensity(x: $0[0], mean: $0[1], logVariance: $0[2])
    },
    GradientCase(name: "Gaussian log-density broadcast", covers: ["gaussianLogDensity"], inputShapes: [[3, 2], [2], [3, 1]], domain: .any) {
        gaussianLogDensity(x: $0[0], mean: $0[1], logVariance: $0[2])
    },
    GradientCase(name: "Gaussian KL same shape", covers: ["klDivergenceDiagonalGaussians"], inputShapes: [[2, 3], [2, 3], [2, 3], [2, 3]], domain: .any) {
        klDivergenceDiagonalGaussians(mean1: $0[0], logVariance1: $0[1], mean2: $0[2], logVariance2: $0[3])
    },
    GradientCase(name: "Gaussian KL against broadcast prior", covers: ["klDivergenceDiagonalGaussians"], inputShapes: [[3, 2], [3, 2], [2], []], domain: .any) {
        klDivergenceDiagonalGaussians(mean1: $0[0], logVariance1: $0[1], mean2: $0[2], logVariance2: $0[3])
    },
]
