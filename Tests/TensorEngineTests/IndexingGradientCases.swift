import TensorEngine

let indexingGradientCases: [GradientCase] = []
