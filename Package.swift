// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]
let fast: [SwiftSetting] = strict + [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]

let package = Package(
    name: "swift-lwaftr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "lwaftr", targets: ["lwaftr"]),
        .library(name: "LwAFTRCore", targets: ["LwAFTRCore"]),
        .library(name: "PacketEngine", targets: ["PacketEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // C for kernel APIs Glibc does not expose (and CPU hints).
        .target(name: "CShim"),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .systemLibrary(name: "CMnl", pkgConfig: "libmnl", providers: [.apt(["libmnl-dev"])]),

        .target(name: "LwAFTRCore", swiftSettings: strict),
        .target(name: "BindingTable", dependencies: ["LwAFTRCore"], swiftSettings: fast),
        .target(name: "PacketEngine", dependencies: ["LwAFTRCore", "BindingTable", "CShim"], swiftSettings: fast),
        .target(name: "PacketIO", dependencies: ["LwAFTRCore", "CShim", "CPcap", "CMnl"], swiftSettings: strict),
        .target(name: "LwAFTRCheck", dependencies: ["LwAFTRCore", "PacketEngine", "PacketIO"], swiftSettings: strict),
        .executableTarget(
            name: "lwaftr",
            dependencies: [
                "LwAFTRCore", "BindingTable", "PacketEngine", "PacketIO", "LwAFTRCheck",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strict),

        // Test-only: counts malloc calls made by the current thread.
        .target(name: "CAllocCounter", path: "Tests/CAllocCounter"),
        .testTarget(name: "LwAFTRCoreTests", dependencies: ["LwAFTRCore"]),
        .testTarget(name: "BindingTableTests", dependencies: ["BindingTable"]),
        .testTarget(name: "PacketEngineTests", dependencies: ["PacketEngine", "PacketIO", "CAllocCounter"]),
        .testTarget(name: "PacketIOTests", dependencies: ["PacketIO"]),
        .testTarget(name: "ConformanceTests", dependencies: ["LwAFTRCheck", "PacketEngine", "LwAFTRCore"]),
    ]
)
