// swift-tools-version: 6.1
// libFuzzer harness for the CSTA decoders. Separate package so the main package never sees sanitizer flags.
// Build and run with ./run.sh (it passes -sanitize=fuzzer,address to every Swift module, so CSTA is instrumented).
import PackageDescription

// `.package(path: "../")` takes its identity from the checkout's directory name (`ctibridge`, `main`, `wt-bench`, …).
let rootIdentity: String = {
    let parts = Context.packageDirectory.split(separator: "/")
    return parts.count >= 2 ? String(parts[parts.count - 2]).lowercased() : "ctibridge"
}()

let package = Package(
    name: "ctibridge-fuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(path: "../"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
    ],
    targets: [
        // Declares LLVMFuzzerRunDriver for the entry point in CSTAFuzz (see the comment there).
        .target(name: "CFuzzerDriver"),
        .executableTarget(
            name: "CSTAFuzz",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "CSTA", package: rootIdentity),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            // No top-level code: libFuzzer's main() drives LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
