import Foundation
import Testing

@Suite("neuralode cnf command errors")
struct CNFCommandTests {
    /// Arguments that must be rejected before any training, and a part of the message each
    /// must print.
    static let cases: [([String], String)] = [
        (["cnf"], "error: expected one mode, 'match' or 'fit', got none"),
        (["cnf", "train"], "expected one mode, 'match' or 'fit', got 'train'"),
        (["cnf", "fit", "--dataset", "spirals"],
         "invalid value for '--dataset': unknown dataset 'spirals'; valid names: circles, moons, 8gaussians, pinwheel, checkerboard"),
        (["cnf", "match", "--targets", "u1,u9"],
         "invalid value for '--targets': unknown target density 'u9'; valid names: u1, u2, u3, u4"),
        (["cnf", "match", "--dataset", "moons"], "option '--dataset' applies to 'cnf fit' only"),
        (["cnf", "fit", "--planar-layers", "8"], "option '--planar-layers' applies to 'cnf match' only"),
        (["cnf", "fit", "--iterations", "-3"], "invalid value '-3' for '--iterations'"),
        (["cnf", "fit", "--rtol", "0"], "invalid value '0' for '--rtol': expected a finite number greater than 0.0"),
        (["cnf", "fit", "--trace", "bogus"],
         "invalid value 'bogus' for '--trace': expected one of exact, closed-form, hutchinson-gaussian, hutchinson-rademacher"),
        (["cnf", "fit", "--widht", "8"], "unknown option '--widht'"),
    ]

    @Test("invalid arguments exit with status 64 and a message", arguments: cases)
    func invalidArguments(arguments: [String], message: String) throws {
        let (status, _, standardError) = try runNeuralODE(arguments)
        #expect(status == 64)
        #expect(standardError.contains(message), "standard error: \(standardError)")
        #expect(standardError.contains("usage: neuralode cnf"), "the usage is missing")
    }
}
