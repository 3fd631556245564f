// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
let fast: [SwiftSetting] = strict + [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "swift-lwaftr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lwaftr", targets: ["lwaftr"]),
        .executable(name: "dhcp4o6d", targets: ["dhcp4o6d"]),
        .library(name: "LwAFTRCore", targets: ["LwAFTRCore"]),
        .library(name: "PacketEngine", targets: ["PacketEngine"]),
        // For Bench/LeasequeryBench: the reference server and the requestor, end to end.
        .library(name: "LeasequeryStack", targets: ["Leasequery", "DHCP4o6Server", "DHCPWire", "BindingTable"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        // C for kernel APIs Glibc does not expose (and CPU hints).
        .target(name: "CShim"),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),

        .target(name: "LwAFTRCore", swiftSettings: strict),
        .target(name: "BindingTable", dependencies: ["LwAFTRCore", "CShim"], swiftSettings: fast),
        .target(name: "PacketEngine", dependencies: ["LwAFTRCore", "BindingTable", "CShim"], swiftSettings: fast),
        .target(name: "PacketIO", dependencies: ["LwAFTRCore", "PacketEngine", "CShim", "CPcap", "CMnl"], swiftSettings: strict),
        .target(name: "LwAFTRCheck", dependencies: ["LwAFTRCore", "BindingTable", "PacketEngine", "PacketIO", "CShim"], swiftSettings: strict),
        .target(
            name: "LwAFTRRuntime",
            dependencies: [
                "LwAFTRCore", "BindingTable", "PacketEngine", "PacketIO", "Telemetry", "CShim", "Leasequery", "DHCPWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "lwaftr",
            dependencies: [
                "LwAFTRCore", "BindingTable", "PacketEngine", "PacketIO", "LwAFTRCheck", "LwAFTRRuntime", "Telemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // Control plane: DHCP wire codecs and the reference DHCP4o6 server.
        .target(name: "DHCPWire", dependencies: ["LwAFTRCore"], swiftSettings: strict),
        .target(
            name: "DHCP4o6Server",
            dependencies: [
                "LwAFTRCore", "DHCPWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),
        .executableTarget(
            name: "dhcp4o6d",
            dependencies: [
                "DHCP4o6Server", "DHCPWire", "LwAFTRCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        .target(
            name: "Leasequery",
            dependencies: [
                "LwAFTRCore", "BindingTable", "DHCPWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict),

        // Observability: Prometheus exposition of worker counters and control-lane state.
        .target(
            name: "Telemetry",
            dependencies: [
                "PacketEngine", "PacketIO",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: strict),

        // Test-only: counts malloc calls made by the current thread.
        .target(name: "CAllocCounter", path: "Tests/CAllocCounter"),
        .testTarget(name: "LwAFTRCoreTests", dependencies: ["LwAFTRCore"]),
        .testTarget(name: "BindingTableTests", dependencies: ["BindingTable", "TestSupport"]),
        .testTarget(name: "PacketEngineTests", dependencies: ["PacketEngine", "PacketIO", "CAllocCounter"]),
        .testTarget(name: "PacketIOTests", dependencies: ["PacketIO", "TestSupport"]),
        .testTarget(name: "DHCPWireTests", dependencies: ["DHCPWire", "TestSupport"]),
        // Test-only: certificates for the STARTTLS tests of the server and the requestor.
        .target(name: "TestSupport", dependencies: ["PacketIO"], path: "Tests/TestSupport"),
        .testTarget(name: "DHCP4o6ServerTests", dependencies: ["DHCP4o6Server", "DHCPWire", "TestSupport"]),
        .testTarget(name: "LeasequeryTests", dependencies: ["Leasequery", "DHCP4o6Server", "DHCPWire", "BindingTable", "TestSupport"]),
        .testTarget(name: "TelemetryTests", dependencies: ["Telemetry", "PacketEngine"]),
        .testTarget(name: "LwAFTRRuntimeTests",
                    dependencies: ["LwAFTRRuntime", "LwAFTRCore", "BindingTable", "PacketEngine", "PacketIO", "Telemetry",
                                   "Leasequery", "DHCP4o6Server", "DHCPWire", "TestSupport",
                                   .product(name: "Logging", package: "swift-log")]),
        .testTarget(name: "ConformanceTests", dependencies: ["LwAFTRCheck", "PacketEngine", "LwAFTRCore"],
                    exclude: ["known-failures.tsv"]),
    ]
)
