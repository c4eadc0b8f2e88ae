import TensorEngine

/// One multivariate time series observed at irregular times, possibly with some channels
/// missing at some times.
public struct IrregularTimeSeries: Sendable, Equatable {
    /// The series' name, such as the first column of a CSV file.
    public var id: String
    /// Observation times, strictly increasing.
    public var times: [Double]
    /// Observed values, `times.count × channelCount` in row-major order; 0 where `mask` is false.
    public var values: [Float]
    /// Whether each value was observed, in the layout of `values`.
    public var mask: [Bool]
    /// Number of values per observation time.
    public let channelCount: Int

    /// Creates a series.
    ///
    /// - Precondition: `times` are finite and strictly increasing, `values` and `mask` hold
    ///   `times.count × channelCount` entries, and every time has at least one observed value.
    public init(id: String, times: [Double], values: [Float], mask: [Bool]? = nil, channelCount: Int) {
        let count = times.count * channelCount
        precondition(channelCount >= 0, "IrregularTimeSeries '\(id)': channelCount must be non-negative, got \(channelCount)")
        precondition(
            values.count == count,
            "IrregularTimeSeries '\(id)': \(values.count) values for \(times.count) times × \(channelCount) channels (expected \(count))")
        let mask = mask ?? [Bool](repeating: true, count: count)
        precondition(
            mask.count == count,
            "IrregularTimeSeries '\(id)': mask has \(mask.count) entries, expected \(count)")
        for (index, time) in times.enumerated() {
            precondition(time.isFinite, "IrregularTimeSeries '\(id)': time \(index) is \(time)")
            if index > 0 {
                precondition(
                    time > times[index - 1],
                    "IrregularTimeSeries '\(id)': times must increase strictly, but time \(index) is \(time) after \(times[index - 1])")
            }
            if channelCount > 0 {
                precondition(
                    mask[(index * channelCount)..<((index + 1) * channelCount)].contains(true),
                    "IrregularTimeSeries '\(id)': time \(time) (index \(index)) has no observed value")
            }
        }
        self.id = id
        self.times = times
        self.values = zip(values, mask).map { $1 ? $0 : 0 }
        self.mask = mask
        self.channelCount = channelCount
    }

    /// Number of observation times.
    public var count: Int { times.count }

    /// Whether some channel is missing at some time.
    public var hasMissingValues: Bool { mask.contains(false) }

    /// Returns the series with every time shifted by `offset`.
    public func shifted(by offset: Double) -> IrregularTimeSeries {
        var copy = self
        copy.times = times.map { $0 + offset }
        return copy
    }
}

/// A set of irregularly sampled series with the same channels.
public struct IrregularTimeSeriesDataset: Sendable {
    /// Names of the channels, one per value column.
    public var channelNames: [String]
    public var series: [IrregularTimeSeries]

    /// Creates a dataset.
    ///
    /// - Precondition: every series has `channelNames.count` channels.
    public init(channelNames: [String], series: [IrregularTimeSeries]) {
        for item in series {
            precondition(
                item.channelCount == channelNames.count,
                "IrregularTimeSeriesDataset: series '\(item.id)' has \(item.channelCount) channels, expected \(channelNames.count) (\(channelNames.joined(separator: ", ")))")
        }
        self.channelNames = channelNames
        self.series = series
    }

    public var channelCount: Int { channelNames.count }

    /// Whether some series misses some channel at some time.
    public var hasMissingValues: Bool { series.contains { $0.hasMissingValues } }

    /// A 64-bit FNV-1a hash of every series' id, times, values and mask, so that two datasets
    /// with different contents almost surely differ in it. Not a cryptographic hash.
    public var contentChecksum: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ word: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) {
                hash = (hash ^ ((word >> UInt64(shift)) & 0xff)) &* 0x0000_0100_0000_01b3
            }
        }
        for name in channelNames { name.utf8.forEach { mix(UInt64($0)) } }
        for item in series {
            item.id.utf8.forEach { mix(UInt64($0)) }
            item.times.forEach { mix($0.bitPattern) }
            item.values.forEach { mix(UInt64($0.bitPattern)) }
            item.mask.forEach { mix($0 ? 1 : 0) }
        }
        return hash
    }

    /// Returns the dataset with each series shifted so that its first observation is at time 0,
    /// the common origin of a latent ODE's initial state.
    public func shiftedToStartAtZero() -> IrregularTimeSeriesDataset {
        IrregularTimeSeriesDataset(
            channelNames: channelNames,
            series: series.map { $0.shifted(by: -($0.times.first ?? 0)) })
    }

    /// Returns the tensors of a batch of the series at `indices`; see `IrregularBatch`.
    ///
    /// - Precondition: `indices` is not empty, every index is valid, and no series has an
    ///   observation before `startTime`.
    public func batch(_ indices: [Int], startTime: Double = 0) -> IrregularBatch {
        IrregularBatch(series: indices.map { series[$0] }, indices: indices, startTime: startTime)
    }
}

/// The tensors of a batch of irregular series, in the three layouts that sequence models use.
///
/// - **Grid layout**: the sorted union of the batch's observation times, preceded by
///   `startTime` when no series is observed there, with values and masks `[times, batch,
///   channels]`. A latent ODE solves once at these times and compares with the observed entries.
/// - **Step layout**: the `i`-th observation of every series, for `i` up to the longest series,
///   as one entry of `steps`. A recurrent network reads these one step at a time; shorter
///   series are padded, and `isPresent` marks their real steps.
///
/// - **Observation list**: one row per (grid time, series) pair with at least one observed
///   channel, for models that evaluate only where there is data. Row `i` is row
///   `observedRows[i]` of the grid flattened to `[times · batch]`.
///
/// The tensors are constants: nothing in the batch requires gradients.
public struct IrregularBatch {
    /// One step of the step layout.
    public struct Step {
        /// Values `[batch, channels]`; 0 where missing or padded.
        public let values: Tensor<Float>
        /// 1 where a value was observed, else 0; `[batch, channels]`.
        public let mask: Tensor<Float>
        /// Observation times `[batch, 1]`; a padded step repeats the series' last time.
        public let times: Tensor<Float>
        /// 1 for a real observation, 0 for padding; `[batch, 1]`.
        public let isPresent: Tensor<Float>
        /// Time since the previous observation of the series, or since `startTime` for the
        /// first one; 0 for padding. `[batch, 1]`.
        public let timeSincePrevious: Tensor<Float>
        /// Time to the next observation of the series; 0 for the last one and for padding.
        /// `[batch, 1]`.
        public let timeToNext: Tensor<Float>
    }

    /// Positions of the series in their dataset.
    public let indices: [Int]
    /// Number of series.
    public let batchSize: Int
    public let channelCount: Int
    /// The time at which a latent ODE's initial state sits; `gridTimes[0]`.
    public let startTime: Double
    /// `startTime` followed by the sorted union of the observation times after it.
    public let gridTimes: [Double]
    /// Values on the grid, `[gridTimes.count, batchSize, channelCount]`; 0 where not observed.
    public let gridValues: Tensor<Float>
    /// 1 where a series observed a channel at a grid time, else 0; shape of `gridValues`.
    public let gridMask: Tensor<Float>
    /// The step layout, `maximumLength` steps.
    public let steps: [Step]
    /// Rows of the flattened grid `[gridTimes.count · batchSize]` with an observation, in
    /// increasing order.
    public let observedRows: [Int]
    /// The series of each observed row.
    public let observedSeries: [Int]
    /// Values of the observed rows, `[observedRows.count, channelCount]`; 0 where missing.
    public let observedValues: Tensor<Float>
    /// Masks of the observed rows, `[observedRows.count, channelCount]`.
    public let observedMask: Tensor<Float>
    /// Number of observation times of each series.
    public let lengths: [Int]
    /// Last observation time of each series.
    public let lastTimes: [Double]

    /// Whether every series has the same number of observations, so that no step is padding.
    public var hasEqualLengths: Bool { Set(lengths).count <= 1 }
    /// Number of observations of the longest series.
    public var maximumLength: Int { lengths.max() ?? 0 }
    /// Whether some channel is missing at some real step.
    public let hasMissingValues: Bool

    /// Relative distance below which two observation times share one grid time.
    public static let mergeTolerance = 1e-9

    /// Builds the batch.
    ///
    /// - Precondition: `series` is not empty, all have the same channel count, and no
    ///   observation is before `startTime`.
    public init(series: [IrregularTimeSeries], indices: [Int]? = nil, startTime: Double = 0) {
        precondition(!series.isEmpty, "IrregularBatch: the batch has no series")
        let channels = series[0].channelCount
        for item in series {
            precondition(
                item.channelCount == channels,
                "IrregularBatch: series '\(item.id)' has \(item.channelCount) channels, expected \(channels)")
            if let first = item.times.first {
                precondition(
                    first >= startTime,
                    "IrregularBatch: series '\(item.id)' starts at \(first), before the start time \(startTime); shift the series or lower startTime")
            }
        }
        let batchSize = series.count
        self.indices = indices ?? Array(series.indices)
        self.batchSize = batchSize
        channelCount = channels
        self.startTime = startTime
        lengths = series.map(\.count)
        lastTimes = series.map { $0.times.last ?? startTime }
        hasMissingValues = series.contains { $0.hasMissingValues }

        // Grid layout: union of the times, with the start time first. Times closer than
        // `mergeTolerance` share a grid time, because an ODE solve cannot step between them
        // (shifting series to a common origin leaves differences of one rounding error).
        var union = Set(series.flatMap(\.times))
        union.insert(startTime)
        var grid: [Double] = []
        var position: [Double: Int] = [:]
        for time in union.sorted() {
            if let last = grid.last, time - last <= Self.mergeTolerance * max(1, abs(last)) {
                position[time] = grid.count - 1
            } else {
                position[time] = grid.count
                grid.append(time)
            }
        }
        gridTimes = grid
        var gridValues = [Float](repeating: 0, count: grid.count * batchSize * channels)
        var gridMask = [Float](repeating: 0, count: gridValues.count)
        for (b, item) in series.enumerated() {
            for (i, time) in item.times.enumerated() {
                let row = position[time]!
                // A later observation merged into the same grid time overwrites the earlier one.
                for c in 0..<channels where item.mask[i * channels + c] {
                    let target = (row * batchSize + b) * channels + c
                    gridValues[target] = item.values[i * channels + c]
                    gridMask[target] = 1
                }
            }
        }
        let gridShape = [grid.count, batchSize, channels]
        self.gridValues = Tensor(shape: gridShape, scalars: gridValues)
        self.gridMask = Tensor(shape: gridShape, scalars: gridMask)

        // Observation list: the grid rows with any observed channel.
        var rows: [Int] = []
        var listedValues: [Float] = []
        var listedMask: [Float] = []
        for row in 0..<(grid.count * batchSize) {
            let entries = (row * channels)..<((row + 1) * channels)
            guard gridMask[entries].contains(1) else { continue }
            rows.append(row)
            listedValues += gridValues[entries]
            listedMask += gridMask[entries]
        }
        observedRows = rows
        observedSeries = rows.map { $0 % batchSize }
        observedValues = Tensor(shape: [rows.count, channels], scalars: listedValues)
        observedMask = Tensor(shape: [rows.count, channels], scalars: listedMask)

        steps = Self.makeSteps(series, channels: channels, startTime: startTime)
    }

    private static func makeSteps(_ series: [IrregularTimeSeries], channels: Int, startTime: Double) -> [Step] {
        let batchSize = series.count
        let length = series.map(\.count).max() ?? 0
        return (0..<length).map { i in
            var values = [Float](repeating: 0, count: batchSize * channels)
            var mask = [Float](repeating: 0, count: batchSize * channels)
            var times = [Float](repeating: 0, count: batchSize)
            var present = [Float](repeating: 0, count: batchSize)
            var sincePrevious = [Float](repeating: 0, count: batchSize)
            var toNext = [Float](repeating: 0, count: batchSize)
            for (b, item) in series.enumerated() {
                guard i < item.count else {
                    times[b] = Float(item.times.last ?? startTime)
                    continue
                }
                present[b] = 1
                times[b] = Float(item.times[i])
                sincePrevious[b] = Float(item.times[i] - (i > 0 ? item.times[i - 1] : startTime))
                toNext[b] = i + 1 < item.count ? Float(item.times[i + 1] - item.times[i]) : 0
                for c in 0..<channels where item.mask[i * channels + c] {
                    values[b * channels + c] = item.values[i * channels + c]
                    mask[b * channels + c] = 1
                }
            }
            return Step(
                values: Tensor(shape: [batchSize, channels], scalars: values),
                mask: Tensor(shape: [batchSize, channels], scalars: mask),
                times: Tensor(shape: [batchSize, 1], scalars: times),
                isPresent: Tensor(shape: [batchSize, 1], scalars: present),
                timeSincePrevious: Tensor(shape: [batchSize, 1], scalars: sincePrevious),
                timeToNext: Tensor(shape: [batchSize, 1], scalars: toNext))
        }
    }
}
