import TensorEngine

let normalizationGradientCases: [GradientCase] = []
