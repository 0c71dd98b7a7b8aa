import Foundation
import Testing

/// `ctibridge decode` / `encode` as `../shared/docs/contracts.md` §1–3 promise them, run as a process.
@Suite(.serialized) struct DecodeEncodeCLITests {
    static let corpus = "fixtures/corpus-dev"

    static func expected(_ name: String) throws -> [[String: Any]] {
        let text = try String(contentsOf: CLI.shared("\(corpus)/\(name)"), encoding: .utf8)
        return text.split(separator: "\n").map { try! JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
    }

    /// The corpus' unframed BER APDUs, re-framed in `framing`.
    static func berStream(_ framing: String) throws -> Data {
        let lines = try String(contentsOf: CLI.shared("\(corpus)/frames.hex"), encoding: .utf8).split(separator: "\n")
        var out = Data()
        for line in lines {
            let apdu = CLI.hexBytes(String(line))
            let n = apdu.count
            switch framing {
            case "u16": out.append(contentsOf: [UInt8(n >> 8), UInt8(n & 0xFF)])
            case "hipath": out.append(contentsOf: [0x26, UInt8(n >> 8) | 0x80, UInt8(n & 0xFF)])
            case "tpkt": out.append(contentsOf: [0x03, 0x00, UInt8((n + 4) >> 8), UInt8((n + 4) & 0xFF)])
            default: break
            }
            out.append(contentsOf: apdu)
        }
        return out
    }

    func expectAllMatch(_ result: CLI.Result, _ expected: [[String: Any]], _ label: String) {
        #expect(result.status == 0, "\(label): \(result.stderr)")
        let got = result.jsonLines
        #expect(got.count == expected.count, "\(label): \(got.count) lines for \(expected.count) frames")
        var bad = 0
        for (g, e) in zip(got, expected) {
            let m = CLI.mismatches(g, e, ignoring: [])
            if !m.isEmpty {
                bad += 1
                if bad <= 3 { Issue.record("\(label) frame \(e["i"] ?? "?"): \(m)") }
            }
        }
        #expect(bad == 0, "\(label): \(bad) frames differ")
    }

    @Test(arguments: ["u16", "hipath", "tpkt", "none"])
    func berCorpusDecodesInEveryFraming(framing: String) async throws {
        guard CLI.hasShared(Self.corpus) else { print("skipped: ../shared/\(Self.corpus) not present"); return }
        let expected = try Self.expected("expected.jsonl")
        let path = try CLI.temporaryFile(try Self.berStream(framing))
        defer { try? FileManager.default.removeItem(atPath: path) }
        expectAllMatch(try await CLI.run(["decode", path, "--framing", framing]), expected, "BER \(framing)")
        if framing != "none" {
            expectAllMatch(try await CLI.run(["decode", path, "--framing", "auto"]), expected, "BER \(framing) as auto")
        }
    }

    @Test func berCorpusFromHexLinesAndStandardInput() async throws {
        guard CLI.hasShared(Self.corpus) else { print("skipped: ../shared/\(Self.corpus) not present"); return }
        let expected = try Self.expected("expected.jsonl")
        expectAllMatch(try await CLI.run(["decode", CLI.shared("\(Self.corpus)/frames.hex").path, "--hex"]), expected, "hex")
        let stream = try Data(contentsOf: CLI.shared("\(Self.corpus)/frames.bin"))
        expectAllMatch(try await CLI.run(["decode", "-", "--encoding", "ber"], stdin: stream), expected, "stdin")
    }

    @Test func xmlCorpusDecodesFramedAutoAndPerLine() async throws {
        guard CLI.hasShared(Self.corpus) else { print("skipped: ../shared/\(Self.corpus) not present"); return }
        let expected = try Self.expected("expected-xml.jsonl")
        let framed = CLI.shared("\(Self.corpus)/frames-xml.bin").path
        expectAllMatch(try await CLI.run(["decode", framed, "--framing", "ecma323"]), expected, "XML ecma323")
        expectAllMatch(try await CLI.run(["decode", framed]), expected, "XML auto")
        // One document per line has no header invoke id.
        let perLine = expected.map { $0.filter { $0.key != "invokeId" } }
        let lines = CLI.shared("\(Self.corpus)/frames-xml.txt").path
        expectAllMatch(try await CLI.run(["decode", lines, "--encoding", "xml", "--framing", "none"]), perLine, "XML lines")
    }

    @Test func statsLineCountsEveryFrame() async throws {
        guard CLI.hasShared(Self.corpus) else { print("skipped: ../shared/\(Self.corpus) not present"); return }
        let frames = try Self.expected("expected.jsonl").count
        let result = try await CLI.run(["decode", CLI.shared("\(Self.corpus)/frames.bin").path, "--framing", "u16", "--stats"])
        #expect(result.status == 0)
        let stats = try #require(result.jsonLines.first)
        #expect(result.lines.count == 1)
        #expect(stats["frames"] as? Int == frames)
        #expect(stats["decoded"] as? Int == frames)
        #expect(stats["errors"] as? Int == 0)
        #expect(stats["bytes"] as? Int == (try Data(contentsOf: CLI.shared("\(Self.corpus)/frames.bin"))).count)
        #expect(stats["seconds"] is Double)
    }

    @Test(arguments: [("ber", "u16"), ("ber", "hipath"), ("ber", "tpkt"), ("xml", "ecma323"), ("xml", "none")])
    func encodeThenDecodeGivesTheKeysBack(encoding: String, framing: String) async throws {
        guard CLI.hasShared(Self.corpus) else { print("skipped: ../shared/\(Self.corpus) not present"); return }
        var expected = try Self.expected(encoding == "ber" ? "expected.jsonl" : "expected-xml.jsonl")
        if framing == "none" { expected = expected.map { $0.filter { $0.key != "invokeId" } } }
        let input = try Data(contentsOf: CLI.shared("\(Self.corpus)/\(encoding == "ber" ? "expected.jsonl" : "expected-xml.jsonl")"))
        let encoded = try await CLI.run(["encode", "-", "--encoding", encoding, "--framing", framing], stdin: input)
        #expect(encoded.status == 0, "\(encoded.stderr)")
        let path = try CLI.temporaryFile(encoded.stdout)
        defer { try? FileManager.default.removeItem(atPath: path) }
        expectAllMatch(try await CLI.run(["decode", path, "--encoding", encoding, "--framing", framing]), expected, "\(encoding) \(framing)")
    }

    @Test func realHiPathTraceDecodes() async throws {
        guard CLI.hasShared("fixtures/real/hipath") else { print("skipped: ../shared/fixtures/real/hipath not present"); return }
        let dir = CLI.shared("fixtures/real/hipath")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".hex") }.sorted()
        var stream = Data()
        for name in names {
            stream.append(contentsOf: CLI.hexBytes(try String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)))
        }
        let result = try await CLI.run(["decode", "-"], stdin: stream)
        #expect(result.status == 0)
        let lines = result.jsonLines
        #expect(lines.count == names.count)
        #expect(lines.allSatisfy { $0["error"] == nil && $0["pdu"] != nil }, "\(result.lines)")
        let aarq = lines.first { $0["pdu"] as? String == "aarq" }
        #expect(aarq?["applicationContext"] as? String == "1.3.12.0.218")
    }

    @Test func garbageNeverCrashesAndEveryFrameGetsALine() async throws {
        var generator = SplitMix64(seed: 0x5EED)
        for framing in ["auto", "u16", "hipath", "tpkt", "ecma323", "none"] {
            var bytes = Data()
            for _ in 0..<4096 { bytes.append(UInt8(truncatingIfNeeded: generator.next())) }
            let result = try await CLI.run(["decode", "-", "--framing", framing], stdin: bytes)
            #expect(result.status == 0, "\(framing): \(result.stderr)")
            #expect(result.lines.count == result.jsonLines.count, "\(framing): every line is JSON")
            #expect(result.jsonLines.allSatisfy { $0["error"] != nil || $0["pdu"] != nil })
        }
    }

    @Test func badArgumentsAndMissingInputFailClearly() async throws {
        let bad = try await CLI.run(["decode", "--framing", "carrier-pigeon"])
        #expect(bad.status != 0)
        #expect(bad.stderr.contains("framing"))
        let missing = try await CLI.run(["decode", "/nonexistent/trace.bin"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("cannot open"))
        let badJSON = try await CLI.run(["encode", "-", "--encoding", "ber"], stdin: Data("{\"pdu\": \n".utf8))
        #expect(badJSON.status == 1)
        #expect(badJSON.stderr.contains("line 1"))
    }
}

/// A small deterministic generator for test data.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
