// swift-tools-version: 6.1
// libFuzzer targets, kept out of the root package: their `main` comes from libFuzzer.
// Build and run with Scripts/fuzz.sh.
import PackageDescription

let package = Package(
    name: "swift-lwaftr-fuzz",
    dependencies: [.package(name: "swift-lwaftr", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzEngine",
            dependencies: [
                .product(name: "PacketEngine", package: "swift-lwaftr"),
                .product(name: "LwAFTRCore", package: "swift-lwaftr"),
            ]),
        .executableTarget(
            name: "FuzzReassembler",
            dependencies: [.product(name: "PacketEngine", package: "swift-lwaftr")]),
    ]
)
