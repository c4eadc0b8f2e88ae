import Plotting
import Testing

@Suite("Tick generation")
struct TicksTests {
    @Test("unit interval gets steps of 0.2")
    func unitInterval() {
        let ticks = Ticks.linear(from: 0, to: 1, targetCount: 5)
        #expect(ticks.map(\.value) == [0, 0.2, 0.4, 0.6, 0.8, 1.0])
        #expect(ticks.map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
    }

    @Test("zero to ten gets steps of 2")
    func zeroToTen() {
        let ticks = Ticks.linear(from: 0, to: 10, targetCount: 5)
        #expect(ticks.map(\.value) == [0, 2, 4, 6, 8, 10])
        #expect(ticks.map(\.label) == ["0", "2", "4", "6", "8", "10"])
    }

    @Test("symmetric range gets steps of 0.5")
    func symmetricRange() {
        // Steps 0.1, 0.2, 0.5 give 21, 11 and 5 ticks in [-1, 1]; 5 matches the target.
        let ticks = Ticks.linear(from: -1, to: 1, targetCount: 5)
        #expect(ticks.map(\.value) == [-1, -0.5, 0, 0.5, 1])
        #expect(ticks.map(\.label) == ["-1.0", "-0.5", "0.0", "0.5", "1.0"])
    }

    @Test("uneven range picks the closest count")
    func unevenRange() {
        // In [-3.7, 12.2] step 2 gives 8 ticks (-2 … 12) and step 5 gives 3 (0, 5, 10);
        // 3 is closer to the target 5.
        let ticks = Ticks.linear(from: -3.7, to: 12.2, targetCount: 5)
        #expect(ticks.map(\.value) == [0, 5, 10])
    }

    @Test("small decimals are exact")
    func smallDecimals() {
        // In [0.001, 0.0047] step 0.0005 gives 8 ticks and step 0.001 gives 4.
        let ticks = Ticks.linear(from: 0.001, to: 0.0047, targetCount: 5)
        #expect(ticks.map(\.value) == [0.001, 0.002, 0.003, 0.004])
        #expect(ticks.map(\.label) == ["0.001", "0.002", "0.003", "0.004"])
    }

    @Test("large values get scientific labels")
    func largeValues() {
        let ticks = Ticks.linear(from: 0, to: 4e6, targetCount: 5)
        #expect(ticks.map(\.value) == [0, 1e6, 2e6, 3e6, 4e6])
        #expect(ticks.map(\.label) == ["0", "10⁶", "2×10⁶", "3×10⁶", "4×10⁶"])
    }

    @Test("tiny steps get scientific labels")
    func tinySteps() {
        let ticks = Ticks.linear(from: 0, to: 5e-5, targetCount: 5)
        #expect(ticks.map(\.value) == [0, 1e-5, 2e-5, 3e-5, 4e-5, 5e-5])
        #expect(ticks.map(\.label) == ["0", "10⁻⁵", "2×10⁻⁵", "3×10⁻⁵", "4×10⁻⁵", "5×10⁻⁵"])
    }

    @Test("scientific label keeps significant digits")
    func scientificSignificand() {
        let ticks = Ticks.linear(from: 2.5e6, to: 3.5e6, targetCount: 2)
        // Step 5×10⁵ gives 3 ticks and step 10⁶ gives 1 (too few), so 2.5, 3.0, 3.5 million.
        #expect(ticks.map(\.value) == [2.5e6, 3e6, 3.5e6])
        #expect(ticks.map(\.label) == ["2.5×10⁶", "3×10⁶", "3.5×10⁶"])
    }

    @Test("zero-width range gets one tick")
    func zeroWidthRange() {
        #expect(Ticks.linear(from: 3, to: 3) == [Tick(value: 3, label: "3")])
    }

    @Test("log axis over five decades ticks every decade")
    func logFiveDecades() {
        let ticks = Ticks.logarithmic(from: 1e-7, to: 1e-2)
        #expect(ticks.map(\.value) == [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2])
        #expect(ticks.map(\.label) == ["10⁻⁷", "10⁻⁶", "10⁻⁵", "10⁻⁴", "10⁻³", "10⁻²"])
    }

    @Test("log axis over twelve decades ticks every third")
    func logTwelveDecades() {
        // 13 powers of ten, target 5: stride ceil(12 / 5) = 3.
        let ticks = Ticks.logarithmic(from: 1e-12, to: 1)
        #expect(ticks.map(\.value) == [1e-12, 1e-9, 1e-6, 1e-3, 1])
        #expect(ticks.map(\.label) == ["10⁻¹²", "10⁻⁹", "10⁻⁶", "10⁻³", "10⁰"])
    }

    @Test("log axis under two decades uses 1-2-5")
    func logNarrowRange() {
        let ticks = Ticks.logarithmic(from: 2, to: 30)
        #expect(ticks.map(\.value) == [2, 5, 10, 20])
        #expect(ticks.map(\.label) == ["2", "5", "10", "20"])
        let small = Ticks.logarithmic(from: 0.015, to: 0.3)
        #expect(small.map(\.value) == [0.02, 0.05, 0.1, 0.2])
        #expect(small.map(\.label) == ["0.02", "0.05", "0.1", "0.2"])
    }

    @Test("log axis without 1-2-5 values falls back to linear")
    func logLinearFallback() {
        // No 1, 2 or 5 multiple lies in [2.1, 4.9]; linear step 0.5 gives 5 ticks.
        let ticks = Ticks.logarithmic(from: 2.1, to: 4.9)
        #expect(ticks.map(\.value) == [2.5, 3.0, 3.5, 4.0, 4.5])
    }

    @Test("ticks reject reversed range")
    func reversedRangeTrap() async {
        await #expect(processExitsWith: .failure) {
            _ = Ticks.linear(from: 2, to: 1)
        }
    }
}
