// swift-tools-version: 6.1
// Benchmarks live in this nested package so `swift test` of the root package never builds
// ordo-one/benchmark. Run from this folder: `swift package benchmark --target BindingTableBench`.
import PackageDescription

let package = Package(
    name: "lwaftr-bench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "swift-lwaftr", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "BindingTableBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PacketEngine", package: "swift-lwaftr"),
            ],
            path: "Benchmarks/BindingTableBench",
            swiftSettings: [.unsafeFlags(["-Ounchecked"])],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "PacketPathBench",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "PacketEngine", package: "swift-lwaftr"),
            ],
            path: "Benchmarks/PacketPathBench",
            swiftSettings: [.unsafeFlags(["-Ounchecked"])],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        // Leasequery end to end (dhcp4o6d ↔ requestor on loopback): `swift run -c release LeasequeryBench`.
        .executableTarget(
            name: "LeasequeryBench",
            dependencies: [.product(name: "LeasequeryStack", package: "swift-lwaftr")],
            path: "Benchmarks/LeasequeryBench"),
    ]
)
