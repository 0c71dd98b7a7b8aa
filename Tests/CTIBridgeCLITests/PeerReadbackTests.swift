import Foundation
import Testing

/// What `ctibridge encode` writes, the independent peers read back to the same keys: asn1tools with the patched
/// ECMA-285 schema for BER, lxml for XML (`scripts/peer_readback.py`). Skipped, with the reason, when python3 lacks
/// asn1tools/lxml (`.ci/run` installs them).
@Suite(.serialized) struct PeerReadbackTests {
    static func pythonHasPeers() -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", "import asn1tools, lxml"]
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    @Test(arguments: [("ber", "expected.jsonl"), ("xml", "expected-xml.jsonl")])
    func peersReadBackWhatEncodeWrites(encoding: String, expectations: String) async throws {
        let expected = CLI.shared("fixtures/corpus-dev/\(expectations)")
        guard FileManager.default.fileExists(atPath: expected.path) else {
            print("skipped: ../shared/fixtures/corpus-dev not present")
            return
        }
        guard Self.pythonHasPeers() else {
            print("skipped: python3 with asn1tools and lxml not available")
            return
        }
        let arguments = encoding == "ber"
            ? ["encode", expected.path, "--encoding", "ber", "--hex"]
            : ["encode", expected.path, "--encoding", "xml", "--framing", "none"]
        let encoded = try await CLI.run(arguments)
        #expect(encoded.status == 0, "\(encoded.stderr)")
        let path = try CLI.temporaryFile(encoded.stdout, suffix: ".txt")
        defer { try? FileManager.default.removeItem(atPath: path) }

        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", CLI.repositoryRoot.appendingPathComponent("scripts/peer_readback.py").path,
                       "--encoding", encoding, expected.path, path]
        var environment = ProcessInfo.processInfo.environment
        environment["CTIBRIDGE_SHARED"] = CLI.sharedRoot.path
        p.environment = environment
        let reportPath = try CLI.temporaryFile(Data(), suffix: ".report")
        defer { try? FileManager.default.removeItem(atPath: reportPath) }
        p.standardOutput = FileHandle(forWritingAtPath: reportPath)
        try p.run()
        await p.exited()
        let report = (try? String(contentsOfFile: reportPath, encoding: .utf8)) ?? ""
        #expect(p.terminationStatus == 0, "\(report)")
        #expect(report.contains(" 0 failed"), "\(report)")
    }
}
