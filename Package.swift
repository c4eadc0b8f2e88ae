// swift-tools-version: 6.0
import PackageDescription

// Release builds of the numeric modules drop dynamic exclusivity checks and target x86-64-v3
// (AVX2 and FMA), which every machine this project runs on provides. They keep -O, not
// -Ounchecked, so that precondition messages still stop a run with their text.
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-target-cpu", "haswell"],
                 .when(configuration: .release)),
]

let package = Package(
    name: "NeuralODE",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TensorEngine", targets: ["TensorEngine"]),
        .library(name: "NeuralNetworks", targets: ["NeuralNetworks"]),
        .library(name: "ODESolvers", targets: ["ODESolvers"]),
        .library(name: "NeuralODE", targets: ["NeuralODE"]),
        .executable(name: "neuralode", targets: ["neuralode"]),
        .executable(name: "neuralode-bench", targets: ["neuralode-bench"]),
    ],
    targets: [
        // MARK: - C libraries from Debian packages

        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),

        // MARK: - Library modules

        .target(name: "TensorEngine", dependencies: ["COpenBLAS"], swiftSettings: numericSettings),
        .target(name: "NeuralNetworks", dependencies: ["TensorEngine"], swiftSettings: numericSettings),
        .target(name: "ODESolvers", swiftSettings: numericSettings),
        .target(
            name: "NeuralODE",
            dependencies: ["TensorEngine", "NeuralNetworks", "ODESolvers"],
            swiftSettings: numericSettings
        ),

        // MARK: - Executables

        .executableTarget(
            name: "neuralode",
            dependencies: ["TensorEngine", "NeuralNetworks", "ODESolvers", "NeuralODE"],
            swiftSettings: numericSettings
        ),
        .executableTarget(
            name: "neuralode-bench",
            dependencies: ["TensorEngine", "NeuralNetworks", "ODESolvers", "NeuralODE", "COpenBLAS"],
            swiftSettings: numericSettings
        ),

        // MARK: - Tests

        // Helpers shared by the test targets (gradient checking); not part of the API.
        .target(name: "TestSupport", dependencies: ["TensorEngine"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorEngineTests", dependencies: ["TensorEngine", "TestSupport"]),
        .testTarget(
            name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "TensorEngine", "TestSupport"]
        ),
        .testTarget(name: "ODESolversTests", dependencies: ["ODESolvers"]),
        .testTarget(
            name: "NeuralODETests",
            dependencies: ["NeuralODE", "TensorEngine", "NeuralNetworks", "ODESolvers", "TestSupport"]
        ),
    ]
)
