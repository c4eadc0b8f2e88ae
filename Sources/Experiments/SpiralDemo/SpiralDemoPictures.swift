import Foundation
import NeuralODE
import ODESolvers
import Plotting
import TensorEngine

/// The pictures of the spiral demo: the trajectories against time, the phase portrait of
/// the true and learned solutions, and the learned vector field.
public enum SpiralDemoPictures {
    /// Writes `trajectories.svg` (x and y against time, true and learned), `phase.svg` (the
    /// phase portraits) and `vector-field.svg` (the learned dynamics on a grid) into `folder`,
    /// and returns their paths.
    public static func write(_ demo: SpiralDemo, to folder: URL) throws -> [URL] {
        let truth = demo.trueTrajectory.doubles
        let learned = try demo.predictedTrajectory().doubles
        let times = demo.times
        let trueX = stride(from: 0, to: truth.count, by: 2).map { truth[$0] }
        let trueY = stride(from: 1, to: truth.count, by: 2).map { truth[$0] }
        let learnedX = stride(from: 0, to: learned.count, by: 2).map { learned[$0] }
        let learnedY = stride(from: 1, to: learned.count, by: 2).map { learned[$0] }

        var trajectories = Plot(title: "Trajectories", xLabel: "t", yLabel: "x, y")
        trajectories.addLine(x: times, y: trueX, label: "x true")
        trajectories.addLine(x: times, y: trueY, label: "y true")
        trajectories.addLine(x: times, y: learnedX, label: "x learned", dashed: true)
        trajectories.addLine(x: times, y: learnedY, label: "y learned", dashed: true)

        var phase = Plot(title: "Phase portrait", xLabel: "x", yLabel: "y")
        phase.equalAspect = true
        phase.addLine(x: trueX, y: trueY, label: "true")
        phase.addLine(x: learnedX, y: learnedY, label: "learned", dashed: true)

        var field = Plot(title: "Learned vector field", xLabel: "x", yLabel: "y")
        field.equalAspect = true
        let grid = vectorField(demo, range: -2...2, count: 21)
        field.addQuiver(x: grid.x, y: grid.y, u: grid.u, v: grid.v)
        field.addLine(x: learnedX, y: learnedY, label: "learned trajectory")

        var urls: [URL] = []
        for (name, figure) in [
            ("trajectories.svg", Figure(trajectories, width: 640, height: 360)),
            ("phase.svg", Figure(phase, width: 420, height: 420)),
            ("vector-field.svg", Figure(field, width: 420, height: 420)),
        ] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let url = folder.appendingPathComponent(name)
            try figure.writeSVG(to: url.path)
            urls.append(url)
        }
        return urls
    }

    /// The learned dynamics at `count × count` points of `range²`, as arrows.
    static func vectorField(_ demo: SpiralDemo, range: ClosedRange<Double>, count: Int)
        -> (x: [Double], y: [Double], u: [Double], v: [Double])
    {
        var points: [Float] = []
        for i in 0..<count {
            for j in 0..<count {
                let step = (range.upperBound - range.lowerBound) / Double(count - 1)
                points.append(Float(range.lowerBound + Double(j) * step))
                points.append(Float(range.lowerBound + Double(i) * step))
            }
        }
        let states = Tensor<Float>(shape: [count * count, 2], scalars: points)
        let derivative = withoutGradients { demo.model(0, states).doubles }
        let x = stride(from: 0, to: points.count, by: 2).map { Double(points[$0]) }
        let y = stride(from: 1, to: points.count, by: 2).map { Double(points[$0]) }
        let u = stride(from: 0, to: derivative.count, by: 2).map { derivative[$0] }
        let v = stride(from: 1, to: derivative.count, by: 2).map { derivative[$0] }
        return (x, y, u, v)
    }
}
