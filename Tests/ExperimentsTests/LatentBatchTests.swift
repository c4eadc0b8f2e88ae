import Datasets
import TensorEngine
import Testing

@Suite("Irregular batches")
struct LatentBatchTests {
    /// Two series with two channels: `a` observed at 0.5 and 1.5, `b` at 0.25, 0.5 and 2, with
    /// `b`'s second channel missing at 0.5.
    static func example() -> IrregularTimeSeriesDataset {
        let a = IrregularTimeSeries(id: "a", times: [0.5, 1.5], values: [1, 2, 3, 4], channelCount: 2)
        let b = IrregularTimeSeries(
            id: "b", times: [0.25, 0.5, 2], values: [5, 6, 7, 0, 9, 10],
            mask: [true, true, true, false, true, true], channelCount: 2)
        return IrregularTimeSeriesDataset(channelNames: ["u", "v"], series: [a, b])
    }

    @Test("grid layout holds the union of times after the start time")
    func gridLayout() {
        let batch = Self.example().batch([0, 1])
        #expect(batch.gridTimes == [0, 0.25, 0.5, 1.5, 2])
        #expect(batch.gridValues.shape == [5, 2, 2])
        // Rows: t = 0, 0.25, 0.5, 1.5, 2; within a row, series a then b.
        #expect(batch.gridValues.scalars == [0, 0, 0, 0, 0, 0, 5, 6, 1, 2, 7, 0, 3, 4, 0, 0, 0, 0, 9, 10])
        #expect(batch.gridMask.scalars == [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1])
        #expect(batch.lengths == [2, 3])
        #expect(batch.lastTimes == [1.5, 2])
        #expect(!batch.hasEqualLengths)
        #expect(batch.hasMissingValues)
    }

    @Test("step layout pads the shorter series")
    func stepLayout() {
        let batch = Self.example().batch([0, 1])
        #expect(batch.steps.count == 3)
        #expect(batch.steps[0].values.scalars == [1, 2, 5, 6])
        #expect(batch.steps[1].values.scalars == [3, 4, 7, 0])
        #expect(batch.steps[1].mask.scalars == [1, 1, 1, 0])
        #expect(batch.steps[2].values.scalars == [0, 0, 9, 10])
        #expect(batch.steps[2].isPresent.scalars == [0, 1])
        #expect(batch.steps[2].times.scalars == [1.5, 2])
        #expect(batch.steps[0].timeSincePrevious.scalars == [0.5, 0.25])
        #expect(batch.steps[1].timeSincePrevious.scalars == [1, 0.25])
        #expect(batch.steps[2].timeSincePrevious.scalars == [0, 1.5])
        #expect(batch.steps[0].timeToNext.scalars == [1, 0.25])
        #expect(batch.steps[1].timeToNext.scalars == [0, 1.5])
        #expect(batch.steps[2].timeToNext.scalars == [0, 0])
    }

    @Test("a series observed at the start time shares the first grid row")
    func startTimeObserved() {
        let series = IrregularTimeSeries(id: "s", times: [0, 1], values: [1, 2], channelCount: 1)
        let batch = IrregularTimeSeriesDataset(channelNames: ["x"], series: [series]).batch([0])
        #expect(batch.gridTimes == [0, 1])
        #expect(batch.gridMask.scalars == [1, 1])
        #expect(batch.hasEqualLengths)
    }

    @Test("times one rounding error apart share a grid row")
    func nearlyEqualTimes() {
        let a = IrregularTimeSeries(id: "a", times: [0.1, 0.7], values: [1, 2], channelCount: 1)
        let b = IrregularTimeSeries(id: "b", times: [0.3, 0.7 + 1e-16 * 4], values: [3, 4], channelCount: 1)
        let batch = IrregularTimeSeriesDataset(channelNames: ["x"], series: [a, b]).batch([0, 1])
        #expect(batch.gridTimes == [0, 0.1, 0.3, 0.7])
        #expect(batch.gridValues.scalars == [0, 0, 1, 0, 0, 3, 2, 4])
        #expect(batch.observedRows == [2, 5, 6, 7])
    }

    @Test("shifting to zero moves each series' first time to 0")
    func shiftToZero() {
        let shifted = Self.example().shiftedToStartAtZero()
        #expect(shifted.series[0].times == [0, 1])
        #expect(shifted.series[1].times == [0, 0.25, 1.75])
    }

    @Test("series with non-increasing times are rejected")
    func unsortedTimes() async {
        await #expect(processExitsWith: .failure) {
            _ = IrregularTimeSeries(id: "bad", times: [1, 1], values: [0, 0], channelCount: 1)
        }
    }
}
