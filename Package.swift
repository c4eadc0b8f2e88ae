// swift-tools-version: 6.0
import PackageDescription

// Release builds of the numeric modules drop dynamic exclusivity checks and target Haswell's
// instruction set (AVX2 and FMA), which every machine this project runs on provides. They keep
// -O, not -Ounchecked, so that precondition messages still stop a run with their text.
let numericSettings: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked", "-target-cpu", "haswell"],
                 .when(configuration: .release)),
]

// The elementwise kernels (VectorKernels) target the CPU of the machine that builds them
// instead: on a CPU with AVX-512 their 16-lane Float vectors fill one register, which doubles
// their speed where the FPU is 512 bits wide. The other modules keep Haswell, because the
// loops of the small matrix products ran slower with AVX-512 enabled. To build for other
// machines, set NEURALODE_KERNEL_CPU to an LLVM CPU name, such as haswell.
let kernelSettings: [SwiftSetting] = [
    .unsafeFlags(
        ["-enforce-exclusivity=unchecked", "-target-cpu",
         Context.environment["NEURALODE_KERNEL_CPU"] ?? "native"],
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
        .library(name: "Datasets", targets: ["Datasets"]),
        .library(name: "Plotting", targets: ["Plotting"]),
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
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),

        // MARK: - Library modules

        .target(name: "VectorKernels", swiftSettings: kernelSettings),
        .target(
            name: "TensorEngine", dependencies: ["COpenBLAS", "CDNNL", "VectorKernels"],
            swiftSettings: numericSettings
        ),
        .target(name: "FileSupport"),
        .target(
            name: "NeuralNetworks", dependencies: ["TensorEngine", "FileSupport"], swiftSettings: numericSettings
        ),
        .target(name: "ODESolvers", swiftSettings: numericSettings),
        .target(name: "Plotting", dependencies: ["CPNG", "FileSupport"], swiftSettings: numericSettings),
        .target(
            name: "Datasets", dependencies: ["TensorEngine", "CZlib"], swiftSettings: numericSettings
        ),
        .target(
            name: "NeuralODE",
            dependencies: ["TensorEngine", "NeuralNetworks", "ODESolvers"],
            swiftSettings: numericSettings
        ),

        // The paper's experiments as library code, so that tests can run them at small sizes.
        .target(
            name: "Experiments",
            dependencies: [
                "TensorEngine", "NeuralNetworks", "ODESolvers", "NeuralODE", "Datasets", "Plotting",
                "FileSupport",
            ],
            swiftSettings: numericSettings
        ),

        // MARK: - Executables

        .executableTarget(
            name: "neuralode",
            dependencies: [
                "TensorEngine", "NeuralNetworks", "ODESolvers", "NeuralODE", "Datasets", "Plotting",
                "Experiments",
            ],
            swiftSettings: numericSettings
        ),
        .executableTarget(
            name: "neuralode-bench",
            dependencies: [
                "TensorEngine", "NeuralNetworks", "ODESolvers", "NeuralODE", "Experiments", "COpenBLAS",
            ],
            swiftSettings: numericSettings
        ),

        // MARK: - Tests

        // Helpers shared by the test targets (gradient checking); not part of the API.
        .target(name: "TestSupport", dependencies: ["TensorEngine"], path: "Tests/TestSupport"),
        .testTarget(name: "TensorEngineTests", dependencies: ["TensorEngine", "TestSupport"]),
        .testTarget(
            name: "NeuralNetworksTests", dependencies: ["NeuralNetworks", "TensorEngine", "TestSupport"]
        ),
        .testTarget(name: "ODESolversTests", dependencies: ["ODESolvers"], exclude: ["Reference"]),
        .testTarget(name: "PlottingTests", dependencies: ["Plotting"]),
        .testTarget(
            name: "ExperimentsTests",
            dependencies: [
                "Experiments", "NeuralODE", "NeuralNetworks", "TensorEngine", "ODESolvers", "Datasets",
            ]
        ),
        .testTarget(name: "DatasetsTests", dependencies: ["Datasets", "TensorEngine"]),
        .testTarget(
            name: "NeuralODETests",
            dependencies: ["NeuralODE", "TensorEngine", "NeuralNetworks", "ODESolvers", "TestSupport"]
        ),
    ]
)
