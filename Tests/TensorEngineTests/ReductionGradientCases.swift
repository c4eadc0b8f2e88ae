import TensorEngine

let reductionGradientCases: [GradientCase] = []
