import Foundation
import TensorEngine
import Testing
import TestSupport

/// One finite-difference gradient check: a function of some inputs, and the recorded
/// operations (by the name given to `recorded`) whose pullbacks it exercises.
struct GradientCase: CustomTestStringConvertible, Sendable {
    let name: String
    let covers: [String]
    let inputShapes: [[Int]]
    /// Keeps inputs away from points where the function is not differentiable or not defined.
    let domain: Domain
    let function: @Sendable ([Tensor<Double>]) -> Tensor<Double>
    /// Whether the second-derivative check applies (false for piecewise-linear functions,
    /// whose second derivative is zero almost everywhere and checked by the first-order case).
    var checksSecondOrder = true

    enum Domain: Sendable {
        case any
        case positive
        /// Values at least 0.1 away from zero, with random signs.
        case awayFromZero
    }

    var testDescription: String { name }

    func makeInputs(seed: UInt64) -> [Tensor<Double>] {
        var generator = RandomGenerator(seed: seed)
        return inputShapes.map { shape in
            let values = Tensor<Double>(randomNormal: shape, generator: &generator)
            switch domain {
            case .any:
                return values
            case .positive:
                return values.abs() + 0.5
            case .awayFromZero:
                return values.sign() * (values.abs() + 0.1) + Tensor(zeros: shape)
            }
        }
    }
}

/// Every differentiable operation of the engine, each with at least one gradient check. The
/// table is split by area across files; `everyRecordedOperationHasACase` fails when an
/// operation is added without an entry in one of them.
let gradientCases: [GradientCase] =
    arithmeticGradientCases + indexingGradientCases + reductionGradientCases
    + convolutionGradientCases + normalizationGradientCases + lossGradientCases

let arithmeticGradientCases: [GradientCase] = [
    GradientCase(name: "add same shape", covers: ["add"], inputShapes: [[3, 4], [3, 4]], domain: .any) { $0[0] + $0[1] },
    GradientCase(name: "add broadcast row", covers: ["add", "sum"], inputShapes: [[3, 4], [4]], domain: .any) { $0[0] + $0[1] },
    GradientCase(name: "add broadcast both", covers: ["add"], inputShapes: [[3, 1, 2], [4, 1]], domain: .any) { $0[0] + $0[1] },
    GradientCase(name: "subtract broadcast", covers: ["subtract"], inputShapes: [[2, 3], [2, 1]], domain: .any) { $0[0] - $0[1] },
    GradientCase(name: "multiply broadcast", covers: ["multiply"], inputShapes: [[2, 3], [1, 3]], domain: .any) { $0[0] * $0[1] },
    GradientCase(name: "multiply scalar tensor", covers: ["multiply"], inputShapes: [[2, 3], []], domain: .any) { $0[0] * $0[1] },
    GradientCase(name: "divide broadcast", covers: ["divide"], inputShapes: [[2, 3], [3]], domain: .awayFromZero) { $0[0] / $0[1] },
    GradientCase(name: "pow tensor exponent", covers: ["pow"], inputShapes: [[2, 3], [2, 3]], domain: .positive) { Tensor.pow($0[0], $0[1]) },
    GradientCase(name: "pow constant exponent", covers: ["pow"], inputShapes: [[5]], domain: .positive) { $0[0].pow(2.5) },
    GradientCase(name: "maximum", covers: ["maximum"], inputShapes: [[6], [6]], domain: .any, function: { Tensor.maximum($0[0], $0[1]) }, checksSecondOrder: false),
    GradientCase(name: "minimum", covers: ["minimum"], inputShapes: [[6], [6]], domain: .any, function: { Tensor.minimum($0[0], $0[1]) }, checksSecondOrder: false),
    GradientCase(name: "where", covers: ["where"], inputShapes: [[2, 3], [3]], domain: .any, function: { x in
        let condition = Tensor<Double>(shape: [2, 3], scalars: [1, 0, 1, 0, 0, 1])
        return Tensor.where(condition, x[0], x[1])
    }),
    GradientCase(name: "negate and scalar affine", covers: ["affine"], inputShapes: [[4]], domain: .any) { 3 - (-$0[0]) * 2 + 1 },
    GradientCase(name: "reciprocal", covers: ["reciprocal"], inputShapes: [[4]], domain: .awayFromZero) { 2 / $0[0] },
    GradientCase(name: "square", covers: ["square"], inputShapes: [[4]], domain: .any) { $0[0].squared() },
    GradientCase(name: "sqrt", covers: ["sqrt"], inputShapes: [[4]], domain: .positive) { $0[0].sqrt() },
    GradientCase(name: "abs", covers: ["abs"], inputShapes: [[5]], domain: .awayFromZero, function: { $0[0].abs() }, checksSecondOrder: false),
    GradientCase(name: "exp", covers: ["exp"], inputShapes: [[5]], domain: .any) { $0[0].exp() },
    GradientCase(name: "log", covers: ["log"], inputShapes: [[5]], domain: .positive) { $0[0].log() },
    GradientCase(name: "tanh", covers: ["tanh", "tanh pullback"], inputShapes: [[5]], domain: .any) { $0[0].tanh() },
    GradientCase(name: "sigmoid", covers: ["sigmoid"], inputShapes: [[5]], domain: .any) { $0[0].sigmoid() },
    GradientCase(name: "softplus", covers: ["softplus"], inputShapes: [[5]], domain: .any) { $0[0].softplus() },
    GradientCase(name: "relu", covers: ["relu"], inputShapes: [[6]], domain: .awayFromZero, function: { $0[0].relu() }, checksSecondOrder: false),
    GradientCase(name: "sin", covers: ["sin"], inputShapes: [[5]], domain: .any) { $0[0].sin() },
    GradientCase(name: "cos", covers: ["cos"], inputShapes: [[5]], domain: .any) { $0[0].cos() },
    GradientCase(name: "clamp", covers: ["clamp"], inputShapes: [[8]], domain: .awayFromZero, function: { $0[0].clamped(lower: -0.05, upper: 0.05) * 0 + $0[0].clamped(lower: -1, upper: 1) }, checksSecondOrder: false),
    GradientCase(name: "sum along axes", covers: ["sum"], inputShapes: [[2, 3, 4]], domain: .any) { $0[0].sum(alongAxes: [0, 2]) },
    GradientCase(name: "sum keeping dimensions", covers: ["sum"], inputShapes: [[2, 3, 4]], domain: .any) { $0[0].sum(alongAxis: -2, keepingDimensions: true) },
    GradientCase(name: "sum all", covers: ["sum"], inputShapes: [[2, 3]], domain: .any) { $0[0].sum() },
    GradientCase(name: "mean along axis", covers: ["sum", "affine"], inputShapes: [[3, 4]], domain: .any) { $0[0].mean(alongAxis: 1) },
    GradientCase(name: "broadcast", covers: ["broadcast"], inputShapes: [[3, 1]], domain: .any) { $0[0].broadcasted(to: [2, 3, 4]) },
    GradientCase(name: "reshape", covers: ["reshape"], inputShapes: [[2, 6]], domain: .any) { $0[0].reshaped(to: [3, -1]) * $0[0].reshaped(to: [3, 4]) },
    GradientCase(name: "linear combination", covers: ["linearCombination"], inputShapes: [[3], [3], [3]], domain: .any) {
        Tensor.linearCombination($0, coefficients: [1, -0.5, 2]) * $0[0]
    },
    GradientCase(name: "matmul", covers: ["matmul"], inputShapes: [[3, 4], [4, 2]], domain: .any) { matmul($0[0], $0[1]) },
    GradientCase(name: "matmul transposed", covers: ["matmul"], inputShapes: [[4, 3], [2, 4]], domain: .any) {
        matmul($0[0], $0[1], transposeA: true, transposeB: true)
    },
    GradientCase(name: "matmul batch broadcast", covers: ["matmul"], inputShapes: [[2, 1, 3, 4], [5, 4, 2]], domain: .any) { matmul($0[0], $0[1]) },
    GradientCase(name: "matmul batch against matrix", covers: ["matmul"], inputShapes: [[2, 3, 4], [4, 5]], domain: .any) { matmul($0[0], $0[1]) },
    GradientCase(name: "linear", covers: ["matmul", "add"], inputShapes: [[3, 4], [2, 4], [2]], domain: .any) {
        Tensor.linear($0[0], weight: $0[1], bias: $0[2]) * $0[0].sum(alongAxis: 1, keepingDimensions: true)
    },
]

@Suite("Gradient checks")
struct GradientCheckTableTests {
    @Test("first derivatives agree with central differences", arguments: gradientCases)
    func firstOrder(_ testCase: GradientCase) {
        let result = checkGradients(of: testCase.function, at: testCase.makeInputs(seed: 3))
        #expect(result.passed, "\(testCase.name): \(result)")
    }

    @Test(
        "second derivatives agree with central differences",
        arguments: gradientCases.filter { $0.checksSecondOrder })
    func secondOrder(_ testCase: GradientCase) {
        let result = checkSecondGradients(of: testCase.function, at: testCase.makeInputs(seed: 5))
        #expect(result.passed, "\(testCase.name): \(result)")
    }

    @Test("every recorded operation has a case")
    func everyRecordedOperationHasACase() throws {
        let sources = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/TensorEngine")
        let files = try #require(FileManager.default.enumerator(at: sources, includingPropertiesForKeys: nil))
        var recorded = Set<String>()
        let pattern = try Regex(#"recorded\(\s*"([^"]+)""#)
        for case let file as URL in files where file.pathExtension == "swift" {
            let text = try String(contentsOf: file, encoding: .utf8)
            for match in text.matches(of: pattern) {
                if let name = match.output[1].substring { recorded.insert(String(name)) }
            }
        }
        #expect(recorded.count > 10, "found only \(recorded.sorted()) in \(sources.path)")
        let covered = Set(gradientCases.flatMap(\.covers))
        let missing = recorded.subtracting(covered).sorted()
        #expect(missing.isEmpty, "operations without a gradient check: \(missing)")
    }
}
