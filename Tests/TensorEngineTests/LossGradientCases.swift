import TensorEngine

let lossGradientCases: [GradientCase] = []
