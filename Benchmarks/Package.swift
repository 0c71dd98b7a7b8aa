// swift-tools-version: 6.1
// Benchmarks live in their own package so the main package never builds ordo-one/benchmark
// (style.md §1.9, G6). Run from this directory: `swift package benchmark`.
import PackageDescription

// `.package(path: "../")` gets its identity from the directory name of the checkout (`ctibridge`, `main`,
// `wt-bench`, …), and `.product(name:package:)` must name that identity. Derive it instead of hard-coding it.
let rootIdentity: String = {
    let parts = Context.packageDirectory.split(separator: "/")
    return parts.count >= 2 ? String(parts[parts.count - 2]).lowercased() : "ctibridge"
}()

let package = Package(
    name: "ctibridge-benchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../"),
        // The mirror has no ordo-one/swift-runtime-interposer: never use the default traits (style.md G6).
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        // Seeded, deterministic CSTA event corpus built with the project's own encoders.
        .target(
            name: "CSTACorpus",
            dependencies: [.product(name: "CSTA", package: rootIdentity)]
        ),
        // Prints the generated corpus (JSON lines, or the framed BER/XML stream): `swift run CSTACorpusDump --help`.
        .executableTarget(
            name: "CSTACorpusDump",
            dependencies: ["CSTACorpus", .product(name: "CSTA", package: rootIdentity)]
        ),
        // decode → call model → durable journal, events/s: `swift run -c release PipelineBench --help`.
        .executableTarget(
            name: "PipelineBench",
            dependencies: [
                .product(name: "CSTA", package: rootIdentity),
                .product(name: "CallModel", package: rootIdentity),
                .product(name: "Store", package: rootIdentity),
                .product(name: "EventBus", package: rootIdentity),
                .product(name: "Simulator", package: rootIdentity),
            ]
        ),
        // read + TCP reassembly + framing + BER decode of a generated pcap, MB/s against tshark, peak RSS:
        // `swift run -c release ReplayBench --help`.
        .executableTarget(
            name: "ReplayBench",
            dependencies: [
                "CSTACorpus",
                .product(name: "CSTA", package: rootIdentity),
                .product(name: "Replay", package: rootIdentity),
            ]
        ),
        .executableTarget(
            name: "CodecBenchmarks",
            dependencies: [
                "CSTACorpus",
                .product(name: "CSTA", package: rootIdentity),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CodecBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
