// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "ctibridge",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CSTA", targets: ["CSTA"]),
        .library(name: "CallModel", targets: ["CallModel"]),
        .library(name: "Store", targets: ["Store"]),
        .library(name: "EventBus", targets: ["EventBus"]),
        .library(name: "Simulator", targets: ["Simulator"]),
        .library(name: "Replay", targets: ["Replay"]),
        .executable(name: "ctibridge", targets: ["ctibridge"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0", traits: []),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // libxml2, the reference XML parser the fast ECMA-323 scanner falls back to.
        .systemLibrary(name: "CLibXML2", pkgConfig: "libxml-2.0", providers: [.apt(["libxml2-dev"])]),
        // The wire: BER, ROSE/ACSE, the CSTA Phase III message model, ECMA-323 XML, TCP framings. No I/O.
        .target(
            name: "CSTA",
            dependencies: [
                "CLibXML2",
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            exclude: ["README.md"]
        ),
        // One CTI link to one switch: connect or listen, TLS, association, requests, supervision, monitors, resync.
        .target(
            name: "CSTALink",
            dependencies: [
                "CSTA",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            exclude: ["README.md"]
        ),
        // A switch that speaks CSTA (both encodings, every framing): the demo's switch, load generator, fault injector.
        .target(
            name: "Simulator",
            dependencies: [
                "CSTA",
                "CallModel",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // Trace replay: pcap, pcapng, hex and XML logs → per-connection, per-direction CSTA frames (TCP reassembled).
        .target(
            name: "Replay",
            dependencies: [
                "CSTA",
                "CSTALink",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            exclude: ["README.md"]
        ),
        // CSTA events → calls, parties, agent states and call records (contract §5). Pure: no I/O, no clock.
        .target(
            name: "CallModel",
            dependencies: ["CSTA"],
            exclude: ["README.md"]
        ),
        // The SQLite store (GRDB, WAL): event journal, consumer offsets, call records, agents, devices, open-call checkpoint.
        .target(
            name: "Store",
            dependencies: [
                "CallModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ],
            exclude: ["README.md"]
        ),
        // Sequenced call events: batched durable journal, durable consumers that resume exactly, bounded live fan-out.
        .target(
            name: "EventBus",
            dependencies: [
                "CallModel",
                "Store",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            exclude: ["README.md"]
        ),
        // The daemon: configuration, link → call model → bus pipeline, call-record consumer, HTTP (health, metrics, API).
        .target(
            name: "Bridge",
            dependencies: [
                "CSTA",
                "CSTALink",
                "CallModel",
                "EventBus",
                "Store",
                "Replay",
                "ScreenPop",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            exclude: ["README.md"]
        ),
        // Screen pops: desktop agents and their sessions, customers by caller number, pops routed to the right agent.
        .target(
            name: "ScreenPop",
            dependencies: [
                "CallModel",
                "EventBus",
                "Store",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            exclude: ["README.md"]
        ),
        .executableTarget(
            name: "ctibridge",
            dependencies: [
                "CSTA",
                "CSTALink",
                "Simulator",
                "CallModel",
                "Store",
                "Bridge",
                "Replay",
                "ScreenPop",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "CSTALinkTests",
            dependencies: [
                "CSTALink",
                "CallModel",
                "Simulator",
                "CSTA",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "SimulatorTests",
            dependencies: [
                "Simulator",
                "CallModel",
                "CSTA",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "ReplayTests",
            dependencies: [
                "Replay",
                "CSTA",
                "CSTALink",
                "Simulator",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CallModelTests",
            dependencies: ["CallModel", "CSTA", "Simulator"]
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: [
                "Store",
                "CallModel",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "EventBusTests",
            dependencies: [
                "EventBus",
                "Store",
                "CallModel",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "BridgeTests",
            dependencies: [
                "Bridge",
                "Replay",
                "ScreenPop",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                "CSTALink",
                "CallModel",
                "Store",
                "Simulator",
                "CSTA",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "ScreenPopTests",
            dependencies: [
                "ScreenPop",
                "CallModel",
                "Store",
                "EventBus",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "CTIBridgeCLITests",
            dependencies: ["ctibridge", "Replay", "CSTA", "Simulator"]
        ),
        .testTarget(
            name: "CSTATests",
            dependencies: [
                "CSTA",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("MemberImportVisibility"))
    target.swiftSettings = settings
}
