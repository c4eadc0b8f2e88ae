import NeuralNetworks
import Testing

@Suite("Learning-rate schedules")
struct LearningRateScheduleTests {
    @Test("piecewise decay switches at the boundary epoch")
    func piecewiseFactor() {
        let schedule = PiecewiseConstantSchedule(initial: 0.1, boundaries: [60, 100, 140], factor: 0.1)
        #expect(schedule.learningRate(atEpoch: 0) == 0.1)
        #expect(schedule.learningRate(atEpoch: 59.99) == 0.1)
        #expect(schedule.learningRate(atEpoch: 60) == 0.1 * 0.1)
        #expect(schedule.learningRate(atEpoch: 99) == 0.1 * 0.1)
        #expect(schedule.learningRate(atEpoch: 100) == 0.1 * 0.1 * 0.1)
        #expect(schedule.learningRate(atEpoch: 140) == 0.1 * 0.1 * 0.1 * 0.1)
        #expect(schedule.learningRate(atEpoch: 1000) == 0.1 * 0.1 * 0.1 * 0.1)
    }

    @Test("piecewise values are used as given")
    func piecewiseValues() {
        let schedule = PiecewiseConstantSchedule(boundaries: [2, 5], values: [1, 0.5, 0.2])
        #expect([0, 1.5, 2, 4.9, 5, 9].map { schedule.learningRate(atEpoch: $0) } == [1, 1, 0.5, 0.5, 0.2, 0.2])
    }

    @Test("linear warm-up ramps from the start factor to the base rate")
    func warmUp() {
        let schedule = PiecewiseConstantSchedule(initial: 0.4, boundaries: [10], factor: 0.5)
            .withLinearWarmUp(epochs: 2, startFactor: 0.25)
        #expect(schedule.learningRate(atEpoch: 0) == 0.1)
        #expect(schedule.learningRate(atEpoch: 1) == 0.4 * 0.625)
        #expect(schedule.learningRate(atEpoch: 2) == 0.4)
        #expect(schedule.learningRate(atEpoch: 5) == 0.4)
        #expect(schedule.learningRate(atEpoch: 10) == 0.2)
    }

    @Test("constant schedule ignores the epoch")
    func constant() {
        let schedule = ConstantSchedule(3e-4)
        #expect(schedule.learningRate(atEpoch: 0) == 3e-4)
        #expect(schedule.learningRate(atEpoch: 1e6) == 3e-4)
    }

    @Test("boundaries that do not increase are rejected")
    func unsortedBoundaries() async {
        await #expect(processExitsWith: .failure) {
            _ = PiecewiseConstantSchedule(boundaries: [5, 5], values: [1, 2, 3])
        }
    }
}
