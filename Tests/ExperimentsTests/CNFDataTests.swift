import Experiments
import Foundation
import TensorEngine
import Testing

@Suite("CNF targets, datasets and planar flow")
struct CNFDataTests {
    @Test("energy functions match hand-evaluated values")
    func energyValues() {
        let points = Tensor<Double>(shape: [4, 2], scalars: [0, 2, 0, 0.4, 1, 0, 1, 0])
        let u1 = TargetDensity.u1.energy(points).doubles
        let u2 = TargetDensity.u2.energy(points).doubles
        let u3 = TargetDensity.u3.energy(points).doubles
        let u4 = TargetDensity.u4.energy(points).doubles
        // u1 at (0, 2): on the ring, both modes at distance 2 → ½(2/0.6)² - log 2.
        #expect(abs(u1[0] - (0.5 * pow(2 / 0.6, 2) - log(2.0))) < 1e-12)
        // u2 at (0, 0.4): w₁ = 0, so ½(0.4/0.4)² = 0.5; at (1, 0): w₁ = 1, so ½(1/0.4)².
        #expect(abs(u2[1] - 0.5) < 1e-12)
        #expect(abs(u2[2] - 0.5 / 0.16) < 1e-12)
        // u3 at (1, 0): w₁ = 1, w₂ = 3 → -log(e^{-½(1/0.35)²} + e^{-½(2/0.35)²}).
        let u3Expected = -log(exp(-0.5 * pow(1 / 0.35, 2)) + exp(-0.5 * pow(2 / 0.35, 2)))
        #expect(abs(u3[3] - u3Expected) < 1e-12)
        // u4 at (1, 0): w₁ = 1, w₃ = 3σ(0) = 1.5 → -log(e^{-½(1/0.4)²} + e^{-½(0.5/0.35)²}).
        let u4Expected = -log(exp(-0.5 * pow(1 / 0.4, 2)) + exp(-0.5 * pow(0.5 / 0.35, 2)))
        #expect(abs(u4[3] - u4Expected) < 1e-12)
    }

    @Test("energy gradients agree with central differences", arguments: TargetDensity.allCases)
    func energyGradients(target: TargetDensity) {
        var generator = RandomGenerator(seed: 2)
        let z = Tensor<Double>(randomNormal: [6, 2], standardDeviation: 1.5, generator: &generator).requiringGradient()
        let analytic = gradients(of: target.energy(z).sum(), withRespectTo: [z])[0].doubles
        let step = 1e-6
        for index in 0..<12 {
            var plus = z.doubles
            var minus = z.doubles
            plus[index] += step
            minus[index] -= step
            let numeric = withoutGradients {
                (target.energy(Tensor(shape: [6, 2], scalars: plus)).sum().scalar
                    - target.energy(Tensor(shape: [6, 2], scalars: minus)).sum().scalar) / (2 * step)
            }
            #expect(abs(analytic[index] - numeric) < 1e-6 * max(1, abs(numeric)), "\(target) entry \(index)")
        }
    }

    @Test("names resolve and unknown names list the valid ones")
    func names() throws {
        #expect(try ToyDataset(named: "8gaussians") == .eightGaussians)
        #expect(try TargetDensity(named: "U3") == .u3)
        #expect(throws: CNFExperimentError.unknownName(
            kind: "dataset", name: "spirals", valid: ["circles", "moons", "8gaussians", "pinwheel", "checkerboard"])
        ) {
            try ToyDataset(named: "spirals")
        }
        let error = CNFExperimentError.unknownName(kind: "target density", name: "u9", valid: ["u1", "u2", "u3", "u4"])
        #expect(error.description == "unknown target density 'u9'; valid names: u1, u2, u3, u4")
    }

    @Test("datasets are reproducible from the seed", arguments: ToyDataset.allCases)
    func reproducible(dataset: ToyDataset) {
        var first = RandomGenerator(seed: 9)
        var second = RandomGenerator(seed: 9)
        let a: Tensor<Float> = dataset.sample(count: 50, generator: &first)
        let b: Tensor<Float> = dataset.sample(count: 50, generator: &second)
        #expect(a.shape == [50, 2])
        #expect(a.scalars == b.scalars)
    }

    @Test("two circles put half the points near each radius")
    func twoCircles() {
        var generator = RandomGenerator(seed: 4)
        let points: Tensor<Double> = ToyDataset.twoCircles.sample(count: 4000, generator: &generator)
        let values = points.doubles
        var radii: [Double] = []
        for index in stride(from: 0, to: values.count, by: 2) {
            let x = values[index]
            let y = values[index + 1]
            radii.append((x * x + y * y).squareRoot())
        }
        let outer = radii.filter { abs($0 - 1) < 0.25 }.count
        let inner = radii.filter { abs($0 - 0.5) < 0.25 }.count
        #expect(outer + inner == 4000)
        // Binomial(4000, ½): standard deviation ≈ 32.
        #expect(abs(outer - 2000) < 150)
    }

    @Test("checkerboard points lie on the dark squares")
    func checkerboard() {
        var generator = RandomGenerator(seed: 6)
        let points: Tensor<Double> = ToyDataset.checkerboard.sample(count: 2000, generator: &generator)
        let values = points.doubles
        for index in stride(from: 0, to: values.count, by: 2) {
            let column = Int(floor(values[index] / 2))
            let row = Int(floor(values[index + 1] / 2))
            #expect((-2..<2).contains(column) && (-2..<2).contains(row))
            #expect((column + row) % 2 == 0, "(\(values[index]), \(values[index + 1])) is on a light square")
        }
    }

    @Test("planar flow log-determinant equals the finite-difference Jacobian")
    func planarLogDeterminant() {
        var generator = RandomGenerator(seed: 8)
        let flow = PlanarFlow<Double>(layerCount: 4, dimension: 2, generator: &generator)
        // Large parameters, so that the layers bend the plane and the constraint on û acts.
        flow.u.assign(Tensor(randomNormal: [4, 2], standardDeviation: 2, generator: &generator))
        flow.w.assign(Tensor(randomNormal: [4, 2], standardDeviation: 2, generator: &generator))
        flow.b.assign(Tensor(randomNormal: [4], generator: &generator))
        let z = Tensor<Double>(randomNormal: [5, 2], generator: &generator)
        let logDeterminant = withoutGradients { flow(z).logDeterminant }.doubles
        let step = 1e-6
        for row in 0..<5 {
            var jacobian = [Double](repeating: 0, count: 4)
            for column in 0..<2 {
                var plus = z.doubles
                var minus = z.doubles
                plus[2 * row + column] += step
                minus[2 * row + column] -= step
                let forward = withoutGradients { flow(Tensor(shape: [5, 2], scalars: plus)).points }.doubles
                let backward = withoutGradients { flow(Tensor(shape: [5, 2], scalars: minus)).points }.doubles
                for output in 0..<2 {
                    jacobian[2 * output + column] = (forward[2 * row + output] - backward[2 * row + output]) / (2 * step)
                }
            }
            let determinant = jacobian[0] * jacobian[3] - jacobian[1] * jacobian[2]
            #expect(determinant > 0, "the constrained flow must preserve orientation")
            #expect(abs(log(abs(determinant)) - logDeterminant[row]) < 1e-6, "row \(row)")
        }
    }

    @Test("density grid orders cells like image pixels")
    func densityGrid() {
        let grid = DensityGrid(extent: 2, resolution: 4)
        let points: Tensor<Double> = grid.points()
        #expect(points.shape == [16, 2])
        #expect(Array(points.doubles.prefix(4)) == [-1.5, 1.5, -0.5, 1.5])
        #expect(Array(points.doubles.suffix(2)) == [1.5, -1.5])
        let counts = grid.histogram(Tensor<Double>(shape: [3, 2], scalars: [-1.9, 1.9, 1.9, -1.9, 5, 0]))
        #expect(counts[0] == 1)
        #expect(counts[15] == 1)
        #expect(counts.reduce(0, +) == 2)
    }
}
