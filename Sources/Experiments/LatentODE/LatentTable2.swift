import Foundation

/// Table 2 of Chen et al., "Neural Ordinary Differential Equations" (NeurIPS 2018): predictive
/// RMSE on the held-out spirals for 30, 50 and 100 observations per training spiral.
public enum LatentTable2 {
    /// The published RMSE by model and observation count. The paper has no row for the
    /// recurrent network with time gaps.
    public static let publishedRMSE: [LatentModelKind: [Int: Double]] = [
        .latentODE: [30: 0.1642, 50: 0.1502, 100: 0.1346],
        .rnn: [30: 0.3937, 50: 0.3202, 100: 0.1813],
    ]

    /// The observation counts of the table.
    public static let observationCounts = [30, 50, 100]

    /// One measured cell of the table.
    public struct Row: Sendable {
        public var model: LatentModelKind
        public var observationCount: Int
        public var evaluation: LatentEvaluation
        public var iterations: Int
        /// Wall time of the training iterations run in this process, in seconds.
        public var trainingSeconds: Double
        /// Whether the row comes from the bi-directional spirals, the data of the published
        /// table. Rows of other data have no published RMSE.
        public var isSpiralData: Bool

        public init(
            model: LatentModelKind, observationCount: Int, evaluation: LatentEvaluation, iterations: Int,
            trainingSeconds: Double, isSpiralData: Bool = true
        ) {
            self.model = model
            self.observationCount = observationCount
            self.evaluation = evaluation
            self.iterations = iterations
            self.trainingSeconds = trainingSeconds
            self.isSpiralData = isSpiralData
        }

        /// The published RMSE of this cell, if the paper has one and the row is of spiral data.
        public var publishedRMSE: Double? {
            isSpiralData ? LatentTable2.publishedRMSE[model]?[observationCount] : nil
        }
    }

    /// Formats the rows as CSV, one line per row, with empty fields for values that do not apply.
    public static func csv(_ rows: [Row]) -> String {
        var text = "model,observations,rmse,published_rmse,rmse_vs_noisy,reconstruction_rmse,last_observation_rmse,iterations,training_seconds\n"
        for row in rows {
            let fields = [
                row.model.rawValue, "\(row.observationCount)", number(row.evaluation.extrapolationRMSE),
                number(row.publishedRMSE), number(row.evaluation.extrapolationRMSEAgainstObservations),
                number(row.evaluation.reconstructionRMSE), number(row.evaluation.lastObservationRMSE),
                "\(row.iterations)", String(format: "%.1f", row.trainingSeconds),
            ]
            text += fields.joined(separator: ",") + "\n"
        }
        return text
    }

    /// Formats the table in Markdown: one row per model, one column per observation count, each cell
    /// the measured RMSE with the published one in parentheses.
    public static func markdown(_ rows: [Row]) -> String {
        let counts = observationCounts.filter { count in rows.contains { $0.observationCount == count } }
        var lines = [
            "| model | " + counts.map { "n = \($0)" }.joined(separator: " | ") + " |",
            "| --- | " + counts.map { _ in "---" }.joined(separator: " | ") + " |",
        ]
        for model in LatentModelKind.allCases where rows.contains(where: { $0.model == model }) {
            let cells = counts.map { count -> String in
                guard let row = rows.first(where: { $0.model == model && $0.observationCount == count }) else {
                    return "–"
                }
                let measured = number(row.evaluation.extrapolationRMSE)
                return row.publishedRMSE.map { "\(measured) (\(number($0)))" } ?? measured
            }
            lines.append("| \(model.displayName) | " + cells.joined(separator: " | ") + " |")
        }
        let reference = counts.map { count in
            number(rows.first { $0.observationCount == count }?.evaluation.lastObservationRMSE)
        }
        lines.append("| last observation repeated | " + reference.joined(separator: " | ") + " |")
        lines.append("")
        lines.append(
            "Extrapolation RMSE against the noise-free spirals at the 100 held-out times; in parentheses, "
                + "Table 2 of Chen et al. (2018).")
        return lines.joined(separator: "\n") + "\n"
    }

    private static func number(_ value: Double?) -> String {
        value.map { String(format: "%.4f", $0) } ?? ""
    }
}
