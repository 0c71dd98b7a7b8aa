import CSTA
import Foundation
import NIOCore
import Replay
import Testing

/// The peers' corpus (`../shared/fixtures/corpus-dev`: frames and the independent codec's key sets) through every input
/// kind: a pcap made by the peers' `make_pcap.py`, the hex file, the XML lines and the ECMA-323 framed XML.
@Suite struct PeerCorpusTests {
    static let shared: URL = {
        if let env = ProcessInfo.processInfo.environment["CTIBRIDGE_SHARED"] { return URL(fileURLWithPath: env) }
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<4 { url.deleteLastPathComponent() } // Tests/ReplayTests/PeerCorpusTests.swift → repository root
        let beside = url.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: beside.path) ? beside : URL(fileURLWithPath: "/work/shared")
    }()

    static var corpus: URL { shared.appendingPathComponent("fixtures/corpus-dev") }

    static func available(_ name: String) -> Bool {
        let ok = FileManager.default.fileExists(atPath: corpus.appendingPathComponent(name).path)
        if !ok { print("skipped: \(corpus.path)/\(name) not found") }
        return ok
    }

    static func expectedLines(_ name: String) throws -> [String] {
        try String(contentsOf: corpus.appendingPathComponent(name), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    /// Each message as the key-set JSON line `decode` prints, indexed in file order.
    static func keySetLines(_ result: ReplayResult) throws -> [String] {
        try result.messages.enumerated().map { i, m in
            let message = try CSTAMessage.decode(m.payload, encoding: m.encoding, headerInvokeId: m.headerInvokeId)
            // Contract §1 allows keys beyond the peers' key set; this one the corpus does not carry (as in CSTATests).
            var record = message.record()
            record["snapshotStates"] = nil
            var out: [UInt8] = []
            KeySetJSON.write(record, index: i, to: &out)
            return String(decoding: out, as: UTF8.self)
        }
    }

    @Test func makePcapCaptureDecodesToTheCorpusKeys() throws {
        guard Self.available("frames.hex") else { return }
        let script = Self.shared.appendingPathComponent("tools/peers/make_pcap.py")
        guard FileManager.default.fileExists(atPath: script.path),
            FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")
        else {
            print("skipped: python3 or \(script.path) not found")
            return
        }
        let dir = try TempDir()
        for coalesce in [1, 7] {
            let out = dir.url.appendingPathComponent("corpus-\(coalesce).pcap").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [script.path, Self.corpus.path, out, "--coalesce", "\(coalesce)"]
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            try #require(process.terminationStatus == 0, "make_pcap.py failed")

            let result = ReplayResult(try ReplaySource.open(path: out, port: 7001))
            #expect(result.errors.isEmpty && result.gaps.isEmpty)
            let expected = try Self.expectedLines("expected.jsonl")
            let got = try Self.keySetLines(result)
            #expect(got.count == expected.count)
            let firstMismatch = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }
            #expect(firstMismatch == nil, "\(String(describing: firstMismatch))")
            // make_pcap.py's rule: events, RouteRequest and SystemStatus flow from the switch.
            for (m, line) in zip(result.messages, expected) {
                let fromSwitch = line.contains("\"CSTAEventReport\"") || line.contains("\"RouteRequest\"")
                    || line.contains("\"SystemStatus\"")
                #expect(m.direction == (fromSwitch ? .switchToApplication : .applicationToSwitch))
            }
        }
    }

    @Test func hexFileDecodesToTheCorpusKeys() throws {
        guard Self.available("frames.hex") else { return }
        let result = ReplayResult(try ReplaySource.open(path: Self.corpus.appendingPathComponent("frames.hex").path))
        #expect(result.errors.isEmpty)
        #expect(try Self.keySetLines(result) == (try Self.expectedLines("expected.jsonl")))
    }

    /// `frames.bin` is what `decode` reads: a u16-framed BER stream.
    @Test func framedStreamDecodesToTheCorpusKeys() throws {
        guard Self.available("frames.bin") else { return }
        let reader = try ReplaySource.open(path: Self.corpus.appendingPathComponent("frames.bin").path)
        #expect(reader.format == .stream)
        let result = ReplayResult(reader)
        #expect(result.errors.isEmpty)
        #expect(result.messages.allSatisfy { $0.framing == .u16 && $0.encoding == .ber })
        #expect(try Self.keySetLines(result) == (try Self.expectedLines("expected.jsonl")))
    }

    @Test func xmlLinesAndFramedXMLDecodeToTheCorpusKeys() throws {
        guard Self.available("frames-xml.txt"), Self.available("frames-xml.bin") else { return }
        let expected = try Self.expectedLines("expected-xml.jsonl")
        let framed = ReplayResult(try ReplaySource.open(path: Self.corpus.appendingPathComponent("frames-xml.bin").path))
        #expect(framed.errors.isEmpty)
        #expect(try Self.keySetLines(framed) == expected)
        // The text file has no header invoke ids: compare without them.
        let lines = ReplayResult(try ReplaySource.open(path: Self.corpus.appendingPathComponent("frames-xml.txt").path))
        #expect(lines.errors.isEmpty)
        #expect(lines.messages.count == expected.count)
        let got = try Self.keySetLines(lines)
        let invokeId = try Regex(#""invokeId": \d+, "#)
        let withoutInvokeId = { (line: String) in line.replacing(invokeId, with: "") }
        #expect(got.map(withoutInvokeId) == expected.map(withoutInvokeId))
    }
}
