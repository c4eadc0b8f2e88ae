import TensorEngine

let convolutionGradientCases: [GradientCase] = []
