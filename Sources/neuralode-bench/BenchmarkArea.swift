/// A named group of benchmarks that the command line selects, such as `ops` or `mlp`.
///
/// To add an area, define a `static let` on `BenchmarkArea` in a new file and list it in
/// `BenchmarkArea.all` in main.swift.
struct BenchmarkArea: Sendable {
    /// The name given on the command line.
    let name: String
    /// One line for `--help`: what the area measures.
    let summary: String
    /// Runs the area's benchmarks and reports each through `context`.
    let run: @Sendable (BenchmarkContext) -> Void
}

/// Options of one run and the reporter that benchmarks send their records to.
final class BenchmarkContext {
    let quick: Bool
    /// `--repeats`, when given.
    let repeatsOverride: Int?
    /// Only benchmarks whose name contains this substring run; empty means all.
    let filter: String
    let reporter: Reporter

    init(quick: Bool, repeatsOverride: Int?, filter: String, reporter: Reporter) {
        self.quick = quick
        self.repeatsOverride = repeatsOverride
        self.filter = filter
        self.reporter = reporter
    }

    /// True when the benchmark `name` passes `--filter`.
    func wants(_ name: String) -> Bool {
        filter.isEmpty || name.contains(filter)
    }

    /// The timing plan of the reference scripts for a benchmark whose samples should last
    /// `sampleSeconds` (`quickSampleSeconds` under `--quick`): 30 samples after 5 warm-up
    /// calls, or 7 after 2 under `--quick`.
    func plan(sampleSeconds: Double, quickSampleSeconds: Double) -> TimingPlan {
        TimingPlan(
            repeats: repeatsOverride ?? (quick ? 7 : 30),
            warmupCalls: quick ? 2 : 5,
            minimumSampleSeconds: quick ? quickSampleSeconds : sampleSeconds)
    }

    func report(_ record: BenchmarkRecord) {
        reporter.report(record)
    }
}
