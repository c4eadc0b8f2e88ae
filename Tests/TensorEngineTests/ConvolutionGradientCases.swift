import TensorEngine

let convolutionGradientCases: [GradientCase] = [
    GradientCase(
        name: "conv2d 3x3 padding 1",
        covers: ["conv2d", "conv2d input gradient", "conv2d filter gradient"],
        inputShapes: [[2, 3, 5, 4], [4, 3, 3, 3]], domain: .any
    ) { conv2d($0[0], filter: $0[1], padding: 1) },
    GradientCase(
        name: "conv2d stride 2 without padding", covers: ["conv2d"],
        inputShapes: [[2, 2, 7, 6], [3, 2, 3, 2]], domain: .any
    ) { conv2d($0[0], filter: $0[1], stride: 2) },
    GradientCase(
        name: "conv2d separate strides and paddings", covers: ["conv2d"],
        inputShapes: [[1, 2, 5, 6], [2, 2, 2, 3]], domain: .any
    ) { conv2d($0[0], filter: $0[1], strides: (2, 1), paddings: (1, 2)) },
    GradientCase(
        name: "conv2d two groups", covers: ["conv2d"],
        inputShapes: [[2, 4, 4, 4], [6, 2, 3, 3]], domain: .any
    ) { conv2d($0[0], filter: $0[1], padding: 1, groups: 2) },
    GradientCase(
        name: "conv2d pointwise on small images", covers: ["conv2d"],
        inputShapes: [[3, 4, 2, 3], [5, 4, 1, 1]], domain: .any
    ) { conv2d($0[0], filter: $0[1]) },
    // 16×16 images take the per-image path for 1×1 kernels, without a column matrix.
    GradientCase(
        name: "conv2d pointwise per image", covers: ["conv2d"],
        inputShapes: [[1, 2, 16, 16], [3, 2, 1, 1]], domain: .any
    ) { conv2d($0[0], filter: $0[1]) },
    // The cotangent reaching the second convolution depends on the input through tanh, so the
    // second-order check also runs the gradient operations' pullbacks for their cotangent.
    GradientCase(
        name: "conv2d chain through tanh",
        covers: ["conv2d", "conv2d input gradient", "conv2d filter gradient"],
        inputShapes: [[2, 2, 4, 4], [3, 2, 3, 3], [2, 3, 3, 3]], domain: .any
    ) { conv2d(conv2d($0[0], filter: $0[1], padding: 1).tanh(), filter: $0[2], padding: 1) },

    GradientCase(
        name: "averagePooled2d 2x2 stride 2", covers: ["averagePool2d", "averagePool2d transpose"],
        inputShapes: [[2, 3, 4, 5]], domain: .any
    ) { $0[0].averagePooled2d(kernelSize: 2, stride: 2).squared() },
    GradientCase(
        name: "averagePooled2d 3x3 with padding", covers: ["averagePool2d", "averagePool2d transpose"],
        inputShapes: [[1, 2, 5, 4]], domain: .any
    ) { $0[0].averagePooled2d(kernelSize: 3, stride: 2, padding: 1).squared() },
    GradientCase(
        name: "adaptiveAveragePooled2d uneven bins", covers: ["averagePool2d", "averagePool2d transpose"],
        inputShapes: [[2, 2, 5, 4]], domain: .any
    ) { $0[0].adaptiveAveragePooled2d(outputSize: (3, 3)).squared() },
    GradientCase(
        name: "adaptiveAveragePooled2d global", covers: ["averagePool2d"],
        inputShapes: [[2, 3, 3, 2]], domain: .any
    ) { $0[0].adaptiveAveragePooled2d(outputSize: (1, 1)).squared() },
]
