import TensorEngine

// Each linear rearrangement is followed by a nonlinear step (a square or a product), so the
// second-order check differentiates through the recorded pullback and not only a constant map.
let indexingGradientCases: [GradientCase] = [
    // Permutations
    GradientCase(name: "transpose matrix", covers: ["permute"], inputShapes: [[3, 4]], domain: .any) {
        $0[0].transposed().squared()
    },
    GradientCase(name: "transpose batch times broadcast row", covers: ["permute", "multiply"], inputShapes: [[2, 3, 4], [3]], domain: .any) {
        $0[0].transposed() * $0[1]
    },
    GradientCase(name: "permute rank 4", covers: ["permute"], inputShapes: [[2, 3, 4, 5]], domain: .any) {
        $0[0].permuted([2, 0, 3, 1]).squared()
    },
    GradientCase(name: "permute negative axes with unit axis", covers: ["permute"], inputShapes: [[3, 1, 4]], domain: .any) {
        $0[0].permuted([-1, 0, 1]) * $0[0].permuted([2, 0, 1])
    },

    // Joining and splitting
    GradientCase(name: "concatenate along columns", covers: ["concatenate"], inputShapes: [[2, 3], [2, 1], [2, 2]], domain: .any) {
        Tensor.concatenated($0, alongAxis: 1).squared()
    },
    GradientCase(name: "concatenate rows then broadcast", covers: ["concatenate"], inputShapes: [[1, 3], [2, 3], [3]], domain: .any) {
        Tensor.concatenated([$0[0], $0[1]], alongAxis: -2) * $0[2]
    },
    GradientCase(name: "stack along middle axis", covers: ["concatenate", "reshape"], inputShapes: [[2, 3], [2, 3]], domain: .any) {
        Tensor.stacked($0, alongAxis: 1).squared()
    },
    GradientCase(name: "split sizes product", covers: ["slice"], inputShapes: [[2, 4]], domain: .any) {
        let parts = $0[0].split(sizes: [1, 3], alongAxis: 1)
        return parts[1] * parts[0]
    },
    GradientCase(name: "split count along rows", covers: ["slice"], inputShapes: [[4, 3]], domain: .any) {
        let parts = $0[0].split(count: 2, alongAxis: 0)
        return parts[0] * parts[1]
    },
    GradientCase(name: "slice middle columns", covers: ["slice", "pad"], inputShapes: [[3, 5]], domain: .any) {
        $0[0].slice(alongAxis: 1, 1..<4).squared()
    },
    GradientCase(name: "slice innermost of rank 3 times broadcast", covers: ["slice"], inputShapes: [[2, 3, 4], [2, 1, 2]], domain: .any) {
        $0[0].slice(alongAxis: -1, 2..<4) * $0[1]
    },
    GradientCase(name: "pad two axes", covers: ["pad", "slice"], inputShapes: [[2, 3, 2]], domain: .any) {
        $0[0].padded(widths: [(0, 0), (1, 2), (2, 0)]).squared()
    },
    GradientCase(name: "pad one axis with value", covers: ["pad"], inputShapes: [[3, 2]], domain: .any) {
        $0[0].padded(alongAxis: 0, before: 1, after: 1, value: 0.5).squared()
    },

    // Indexing
    GradientCase(name: "select index drops axis", covers: ["slice", "reshape"], inputShapes: [[3, 4]], domain: .any) {
        $0[0].selecting(index: -2, alongAxis: 1) * $0[0].selecting(index: 0, alongAxis: 1)
    },
    GradientCase(name: "gather repeated indices", covers: ["gather", "scatter add"], inputShapes: [[2, 3, 2]], domain: .any) {
        $0[0].gather(indices: [2, 0, 2, 1], alongAxis: 1).squared()
    },
    GradientCase(name: "gather rows times broadcast", covers: ["gather"], inputShapes: [[4, 3], [3]], domain: .any) {
        $0[0].gather(indices: [3, 3, 0], alongAxis: 0) * $0[1]
    },
    GradientCase(name: "scatter add merges slices", covers: ["scatter add", "gather"], inputShapes: [[3, 2]], domain: .any) {
        $0[0].scatterAdded(indices: [1, 1, 0], alongAxis: 0, size: 4).squared()
    },
    GradientCase(name: "gather elements along rows", covers: ["gather elements", "scatter add elements"], inputShapes: [[3, 4]], domain: .any) {
        let indices = IndexTensor(shape: [2, 4], indices: [0, 2, 2, 1, 1, 0, 2, 2])
        return $0[0].gather(indices: indices, alongAxis: 0).squared()
    },
    GradientCase(name: "gather elements along last axis", covers: ["gather elements"], inputShapes: [[2, 2, 3], [2]], domain: .any) {
        let indices = IndexTensor(shape: [2, 2, 2], indices: [2, 0, 1, 1, 0, 0, 2, 1])
        return $0[0].gather(indices: indices, alongAxis: -1) * $0[1]
    },
    GradientCase(name: "scatter add elements", covers: ["scatter add elements", "gather elements"], inputShapes: [[2, 3]], domain: .any) {
        let indices = IndexTensor(shape: [2, 3], indices: [0, 3, 3, 1, 0, 2])
        return $0[0].scatterAdded(indices: indices, alongAxis: 1, shape: [2, 4]).squared()
    },
]
