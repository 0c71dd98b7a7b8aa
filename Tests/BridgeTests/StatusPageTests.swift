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
    static func renderedDOM(_ url: String, budget: Int = 4000) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: chromium!)
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--virtual-time-budget=\(budget)", "--dump-dom", url,
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
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
        let dom = try Self.renderedDOM("http://127.0.0.1:\(endpoints.httpPort)/")
        try await harness.stopDaemon()
        #expect(dom.contains("<span id=\"link\" class=\"pill up\">up</span>"), "\(dom.prefix(2000))")
        // Rows of finished calls: the hotline number the callers dialled and an outcome per row.
        let rows = dom.components(separatedBy: "<tbody id=\"records\">").last?.components(separatedBy: "</tbody>").first ?? ""
        #expect(rows.components(separatedBy: "<tr>").count - 1 >= 10, "\(rows.prefix(2000))")
        #expect(rows.contains("96510"))
        #expect(rows.contains("answered"))
    }
}
