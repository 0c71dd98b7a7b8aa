import Bridge
import CSTA
import Foundation
import Testing

/// The status page in a real browser: headless Chromium loads it from the running daemon, runs its script, and the
/// rendered DOM must show the link up and the calls the bridge recorded.
@Suite("Status page in headless Chromium", .serialized)
struct StatusPageTests {
    static let chromium: String? = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .first { FileManager.default.isExecutableFile(atPath: $0) }

    /// The DOM after the page's script ran for `budget` milliseconds of virtual time.
    static func renderedDOM(_ url: String, budget: Int = 4000) async throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--virtual-time-budget=\(budget)", "--dump-dom", url,
        ]
        // Output to a file and a polling wait: a blocking wait would hold one of the test pool's two threads while the
        // in-process daemon has to serve the page.
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("dom-\(UUID().uuidString).html").path
        _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        process.standardOutput = FileHandle(forWritingAtPath: outputPath)
        process.standardError = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try? await Task.sleep(for: .milliseconds(20)) }
        process.waitUntilExit()
        return (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    }

    @Test(.enabled(if: chromium != nil, "needs chromium (.ci/run installs it)"))
    func pageShowsLinkAndCalls() async throws {
        let harness = try await BridgeHarness(encoding: .ber)
        defer { Task { await harness.shutdown() } }
        try await harness.startDaemon()
        try await harness.waitUntilLinkUp()
        try await harness.startLoad(calls: 40, rate: 40)
        _ = try await harness.waitUntilSettled(timeout: .seconds(30))
        let endpoints = try #require(harness.endpoints.withLock { $0 })
        let dom = try await Self.renderedDOM("http://127.0.0.1:\(endpoints.httpPort)/")
        try await harness.stopDaemon()
        #expect(dom.contains("<span id=\"link\" class=\"pill up\">up</span>"), "\(dom.prefix(2000))")
        // Rows of finished calls: the hotline number the callers dialled and an outcome per row.
        let rows = dom.components(separatedBy: "<tbody id=\"records\">").last?.components(separatedBy: "</tbody>").first ?? ""
        #expect(rows.components(separatedBy: "<tr>").count - 1 >= 10, "\(rows.prefix(2000))")
        #expect(rows.contains("96510"))
        #expect(rows.contains("answered"))
    }
}
