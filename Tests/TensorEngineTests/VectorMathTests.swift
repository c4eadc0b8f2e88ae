import Foundation
import TensorEngine
import Testing

/// Error of a `Float` result in units in the last place of the exact value, taking the exact
/// value as the `Double` result of the C library; 0 when both are the same special value.
private func ulpError(_ value: Float, exact: Double) -> Double {
    let rounded = Float(exact)
    if exact.isNaN { return value.isNaN ? 0 : .infinity }
    if rounded.isInfinite || value.isInfinite { return value == rounded ? 0 : .infinity }
    let ulp = Double(Swift.max(rounded.ulp, Float.leastNonzeroMagnitude))
    return Swift.abs(Double(value) - exact) / ulp
}

/// Relative error of a `Double` result against the C library; 0 when both are the same
/// special value. Subnormal and zero expected values carry no relative precision, so there the
/// result is 0 within 3 ulp (3 · 2⁻¹⁰⁷⁴) and infinite beyond.
private func relativeError(_ value: Double, expected: Double) -> Double {
    if expected.isNaN { return value.isNaN ? 0 : .infinity }
    if expected.isInfinite || value.isInfinite { return value == expected ? 0 : .infinity }
    if Swift.abs(expected) < Double.leastNormalMagnitude {
        return Swift.abs(value - expected) <= 3 * Double.leastNonzeroMagnitude ? 0 : .infinity
    }
    return Swift.abs(value - expected) / Swift.abs(expected)
}

private func applyFloat(_ function: ElementaryFunction, _ inputs: [Float]) -> [Float] {
    var outputs = [Float](repeating: 0, count: inputs.count)
    inputs.withUnsafeBufferPointer { x in
        outputs.withUnsafeMutableBufferPointer { y in
            Float.apply(function, x.baseAddress!, y.baseAddress!, count: inputs.count)
        }
    }
    return outputs
}

private func applyDouble(_ function: ElementaryFunction, _ inputs: [Double]) -> [Double] {
    var outputs = [Double](repeating: 0, count: inputs.count)
    inputs.withUnsafeBufferPointer { x in
        outputs.withUnsafeMutableBufferPointer { y in
            Double.apply(function, x.baseAddress!, y.baseAddress!, count: inputs.count)
        }
    }
    return outputs
}

/// The C library's value of each function, in `Double`.
private func reference(_ function: ElementaryFunction, _ x: Double) -> Double {
    switch function {
    case .exp: return Foundation.exp(x)
    case .log: return Foundation.log(x)
    case .tanh: return Foundation.tanh(x)
    case .sigmoid: return x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
    case .softplus: return Swift.max(x, 0) + Foundation.log1p(Foundation.exp(-Swift.abs(x)))
    case .sin: return Foundation.sin(x)
    case .cos: return Foundation.cos(x)
    case .sqrt: return x.squareRoot()
    }
}

/// `count` values spread evenly over the bit patterns of `[0, upper]`, with both signs unless
/// `positiveOnly`; this covers tiny, subnormal and huge magnitudes alike.
private func floatBitPatternSweep(upTo upper: Float, count: Int, positiveOnly: Bool = false) -> [Float] {
    let step = Swift.max(1, Int(upper.bitPattern) / count)
    var values: [Float] = []
    for bits in stride(from: 0, through: Int(upper.bitPattern), by: step) {
        let value = Float(bitPattern: UInt32(bits))
        values.append(value)
        if !positiveOnly { values.append(-value) }
    }
    return values
}

private func doubleBitPatternSweep(upTo upper: Double, count: Int, positiveOnly: Bool = false) -> [Double] {
    let step = Swift.max(1, upper.bitPattern / UInt64(count))
    var values: [Double] = []
    for bits in stride(from: 0, through: upper.bitPattern, by: Int(step)) {
        let value = Double(bitPattern: bits)
        values.append(value)
        if !positiveOnly { values.append(-value) }
    }
    return values
}

/// Evenly spaced values from `lower` to `upper`.
private func grid<T: BinaryFloatingPoint>(_ lower: T, _ upper: T, count: Int) -> [T] {
    (0..<count).map { lower + (upper - lower) * T($0) / T(count - 1) }
}

/// A function, where to sweep it and the largest error the sweep may find.
private struct AccuracyCase: Sendable, CustomTestStringConvertible {
    let function: ElementaryFunction
    /// Largest magnitude in the bit-pattern sweep, and whether negative inputs are skipped.
    let floatRange: Float
    let doubleRange: Double
    let positiveOnly: Bool
    /// Bound for `Float` results, in ulps of the correctly rounded value.
    let floatUlps: Double

    var testDescription: String { "\(function)" }
}

private let accuracyCases: [AccuracyCase] = [
    AccuracyCase(function: .exp, floatRange: 110, doubleRange: 750, positiveOnly: false, floatUlps: 1.5),
    AccuracyCase(
        function: .log, floatRange: .greatestFiniteMagnitude, doubleRange: .greatestFiniteMagnitude,
        positiveOnly: true, floatUlps: 2.5),
    AccuracyCase(
        function: .tanh, floatRange: .greatestFiniteMagnitude, doubleRange: .greatestFiniteMagnitude,
        positiveOnly: false, floatUlps: 2.5),
    AccuracyCase(
        function: .sigmoid, floatRange: .greatestFiniteMagnitude, doubleRange: .greatestFiniteMagnitude,
        positiveOnly: false, floatUlps: 3),
    AccuracyCase(
        function: .softplus, floatRange: .greatestFiniteMagnitude, doubleRange: .greatestFiniteMagnitude,
        positiveOnly: false, floatUlps: 3),
]

/// Relative error bound for `Double` results against the C library.
private let doubleRelativeBound = 1e-15

@Suite("Vector math")
struct VectorMathTests {
    @Test("Float sweep within ulp bound", arguments: accuracyCases)
    fileprivate func floatSweep(_ testCase: AccuracyCase) {
        let near: [Float] = testCase.positiveOnly ? grid(0, 4, count: 8001) : grid(-20, 20, count: 8001)
        let inputs = floatBitPatternSweep(
            upTo: testCase.floatRange, count: 20_000, positiveOnly: testCase.positiveOnly) + near
        let outputs = applyFloat(testCase.function, inputs)
        var worst = (error: 0.0, input: Float(0), output: Float(0))
        for (x, y) in zip(inputs, outputs) {
            let error = ulpError(y, exact: reference(testCase.function, Double(x)))
            if error > worst.error { worst = (error, x, y) }
        }
        #expect(
            worst.error <= testCase.floatUlps,
            "\(testCase.function)(\(worst.input)) = \(worst.output), \(worst.error) ulp from \(reference(testCase.function, Double(worst.input)))"
        )
    }

    @Test("Double sweep within relative bound", arguments: accuracyCases)
    fileprivate func doubleSweep(_ testCase: AccuracyCase) {
        let near: [Double] = testCase.positiveOnly ? grid(0, 4, count: 8001) : grid(-40, 40, count: 8001)
        let inputs = doubleBitPatternSweep(
            upTo: testCase.doubleRange, count: 20_000, positiveOnly: testCase.positiveOnly) + near
        let outputs = applyDouble(testCase.function, inputs)
        var worst = (error: 0.0, input: 0.0, output: 0.0)
        for (x, y) in zip(inputs, outputs) {
            let error = relativeError(y, expected: reference(testCase.function, x))
            if error > worst.error { worst = (error, x, y) }
        }
        #expect(
            worst.error <= doubleRelativeBound,
            "\(testCase.function)(\(worst.input)) = \(worst.output), relative error \(worst.error) from \(reference(testCase.function, worst.input))"
        )
    }

    @Test("exp at overflow and underflow thresholds")
    func expThresholds() {
        // ln(Float.greatestFiniteMagnitude) ≈ 88.72284; Float's smallest subnormal 2⁻¹⁴⁹ is
        // e^−103.28, and below e^−103.97 the result rounds to 0.
        let floatInputs: [Float] = [88.7228, 88.72284, 88.7229, 89, 100, -87.33, -87.34, -103.2, -103.9, -104, -200]
        let floatOutputs = applyFloat(.exp, floatInputs)
        for (x, y) in zip(floatInputs, floatOutputs) {
            let exact = Foundation.exp(Double(x))
            #expect(ulpError(y, exact: exact) <= 1.5, "exp(\(x)) = \(y), expected \(Float(exact))")
        }
        #expect(floatOutputs[3].isInfinite)
        #expect(floatOutputs[10] == 0)

        // ln(Double.greatestFiniteMagnitude) ≈ 709.7827; e^−745.13 is the smallest subnormal.
        let doubleInputs: [Double] = [709.78, 709.7827, 709.79, 710, -708.39, -708.4, -744, -745.1, -745.2, -746, -1e6]
        let doubleOutputs = applyDouble(.exp, doubleInputs)
        for (x, y) in zip(doubleInputs, doubleOutputs) {
            let expected = Foundation.exp(x)
            #expect(relativeError(y, expected: expected) <= doubleRelativeBound, "exp(\(x)) = \(y), expected \(expected)")
        }
        #expect(doubleOutputs[2].isInfinite)
        #expect(doubleOutputs[10] == 0)
    }

    @Test("special values like the C library", arguments: [
        ElementaryFunction.exp, .log, .tanh, .sigmoid, .softplus,
    ])
    func specialValues(_ function: ElementaryFunction) {
        let doubleInputs: [Double] = [0, -0.0, .infinity, -.infinity, .nan, -1, 1, 1e-300, -1e-300, .leastNonzeroMagnitude]
        let doubleOutputs = applyDouble(function, doubleInputs)
        for (x, y) in zip(doubleInputs, doubleOutputs) {
            let expected = reference(function, x)
            if expected.isNaN {
                #expect(y.isNaN, "\(function)(\(x)) = \(y), expected NaN")
            } else {
                #expect(relativeError(y, expected: expected) <= doubleRelativeBound, "\(function)(\(x)) = \(y), expected \(expected)")
                if expected == 0 {
                    #expect(y.sign == expected.sign, "\(function)(\(x)) = \(y), expected \(expected)")
                }
            }
        }

        let floatInputs: [Float] = [0, -0.0, .infinity, -.infinity, .nan, -1, 1, 1e-30, -1e-30, .leastNonzeroMagnitude]
        let floatOutputs = applyFloat(function, floatInputs)
        for (x, y) in zip(floatInputs, floatOutputs) {
            let exact = reference(function, Double(x))
            if exact.isNaN {
                #expect(y.isNaN, "\(function)(\(x)) = \(y), expected NaN")
            } else {
                #expect(ulpError(y, exact: exact) <= 3, "\(function)(\(x)) = \(y), expected \(Float(exact))")
            }
        }
    }

    @Test("log of zero, negatives and subnormals")
    func logEdges() {
        let smallSubnormal = Float.leastNormalMagnitude / 100
        let floatOutputs = applyFloat(.log, [0, -0.0, -1, -.infinity, .infinity, .leastNonzeroMagnitude, smallSubnormal, 1])
        #expect(floatOutputs[0] == -.infinity)
        #expect(floatOutputs[1] == -.infinity)
        #expect(floatOutputs[2].isNaN)
        #expect(floatOutputs[3].isNaN)
        #expect(floatOutputs[4] == .infinity)
        #expect(ulpError(floatOutputs[5], exact: Foundation.log(Double(Float.leastNonzeroMagnitude))) <= 1)
        #expect(ulpError(floatOutputs[6], exact: Foundation.log(Double(smallSubnormal))) <= 1)
        #expect(floatOutputs[7] == 0)

        let doubleOutputs = applyDouble(.log, [0, -0.0, -1, .leastNonzeroMagnitude, Double.leastNormalMagnitude / 1e6, 1])
        #expect(doubleOutputs[0] == -.infinity)
        #expect(doubleOutputs[1] == -.infinity)
        #expect(doubleOutputs[2].isNaN)
        #expect(relativeError(doubleOutputs[3], expected: Foundation.log(Double.leastNonzeroMagnitude)) <= doubleRelativeBound)
        #expect(relativeError(doubleOutputs[4], expected: Foundation.log(Double.leastNormalMagnitude / 1e6)) <= doubleRelativeBound)
        #expect(doubleOutputs[5] == 0)
    }

    @Test("tanh keeps relative accuracy near zero")
    func tanhNearZero() {
        let floatInputs: [Float] = [1e-38, 1e-20, 1e-8, 1e-4, 0.01, 0.3, 0.5499, 0.5501]
        for (x, y) in zip(floatInputs, applyFloat(.tanh, floatInputs)) {
            #expect(ulpError(y, exact: Foundation.tanh(Double(x))) <= 2.5, "tanh(\(x)) = \(y)")
            #expect(ulpError(-y, exact: Foundation.tanh(-Double(x))) <= 2.5, "tanh(\(-x))")
        }
        let negativeZero = applyFloat(.tanh, [-0.0])[0]
        #expect(negativeZero == 0)
        #expect(negativeZero.sign == .minus)

        let doubleInputs: [Double] = [1e-300, 1e-20, 1e-8, 1e-4, 0.01, 0.3, 0.5499, 0.5501]
        for (x, y) in zip(doubleInputs, applyDouble(.tanh, doubleInputs)) {
            #expect(relativeError(y, expected: Foundation.tanh(x)) <= doubleRelativeBound, "tanh(\(x)) = \(y)")
        }
    }

    @Test("softplus and sigmoid at large magnitudes")
    func largeMagnitudes() {
        let inputs: [Double] = [-740, -100, -30, 30, 100, 740]
        let softplus = applyDouble(.softplus, inputs)
        let sigmoid = applyDouble(.sigmoid, inputs)
        for (index, x) in inputs.enumerated() {
            #expect(relativeError(softplus[index], expected: reference(.softplus, x)) <= doubleRelativeBound, "softplus(\(x)) = \(softplus[index])")
            #expect(relativeError(sigmoid[index], expected: reference(.sigmoid, x)) <= doubleRelativeBound, "sigmoid(\(x)) = \(sigmoid[index])")
        }
        #expect(softplus[5] == 740)
        #expect(sigmoid[5] == 1)
    }

    @Test("partial vectors and in-place buffers")
    func tailsAndAliasing() {
        // 13 values: one full vector of 8 Floats (three of 4 Doubles) and a partial one.
        let values: [Double] = (0..<13).map { Double($0) * 0.37 - 2 }
        var inPlace = values
        inPlace.withUnsafeMutableBufferPointer { buffer in
            Double.apply(.tanh, buffer.baseAddress!, buffer.baseAddress!, count: 13)
        }
        let floats = Tensor<Float>(values.map { Float($0) }).tanh().scalars
        for (index, x) in values.enumerated() {
            #expect(relativeError(inPlace[index], expected: Foundation.tanh(x)) <= doubleRelativeBound, "tanh(\(x)) in place")
            #expect(ulpError(floats[index], exact: Foundation.tanh(Double(Float(x)))) <= 2.5, "Tensor tanh at \(index)")
        }
    }

    @Test("buffers split across two threads", arguments: [65_536, 100_003])
    func splitBuffers(count: Int) {
        // From 65 536 values on, the two halves run on two threads. Every value, including
        // those around the split and in the last partial vector, must match the kernel applied
        // to that value alone.
        let floats = (0..<count).map { Float($0 % 1000) * 0.013 - 6.5 }
        let doubles = floats.map { Double($0) }
        for function in [ElementaryFunction.tanh, .exp, .sigmoid] {
            var floatResult = [Float](repeating: .nan, count: count)
            Float.apply(function, floats, &floatResult, count: count)
            var doubleResult = [Double](repeating: .nan, count: count)
            Double.apply(function, doubles, &doubleResult, count: count)
            for index in [0, 1, count / 2 - 9, count / 2 - 1, count / 2, count / 2 + 7, count - 2, count - 1] {
                var single: Float = 0
                Float.apply(function, [floats[index]], &single, count: 1)
                var singleDouble: Double = 0
                Double.apply(function, [doubles[index]], &singleDouble, count: 1)
                #expect(floatResult[index] == single, "Float \(function) at \(index) of \(count)")
                #expect(doubleResult[index] == singleDouble, "Double \(function) at \(index) of \(count)")
            }
            #expect(!floatResult.contains { $0.isNaN }, "Float \(function) wrote every value of \(count)")
            #expect(!doubleResult.contains { $0.isNaN }, "Double \(function) wrote every value of \(count)")
        }
    }
}
