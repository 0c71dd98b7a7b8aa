import Foundation
import Testing
@testable import CSTA

/// The reference corpus (asn1tools-generated) and real HiPath frames.
@Suite struct BERConformanceTests {
    static let corpus = "fixtures/corpus-dev"

    @Test func corpusHexDecodesToExpectedKeys() throws {
        guard SharedFixtures.exists("\(Self.corpus)/frames.hex") else {
            print("skipped: ../shared/\(Self.corpus) not found")
            return
        }
        let lines = try SharedFixtures.lines("\(Self.corpus)/frames.hex")
        let expected = try SharedFixtures.jsonLines("\(Self.corpus)/expected.jsonl")
        #expect(lines.count == expected.count)
        var failures = 0
        for (i, line) in lines.enumerated() {
            let record = try BERTest.record(BERTest.hexBytes(line))
            let bad = record.mismatches(against: expected[i])
            if !bad.isEmpty {
                failures += 1
                if failures <= 5 { Issue.record("frame \(i): \(bad)") }
            }
            #expect(record["eventError"] == nil, "frame \(i)")
        }
        #expect(failures == 0)
    }

    @Test func corpusBinaryFramesMatchHexLines() throws {
        guard SharedFixtures.exists("\(Self.corpus)/frames.bin") else {
            print("skipped: ../shared/\(Self.corpus) not found")
            return
        }
        let bin = try SharedFixtures.data("\(Self.corpus)/frames.bin")
        let expected = try SharedFixtures.jsonLines("\(Self.corpus)/expected.jsonl")
        var offset = 0
        var index = 0
        while offset + 2 <= bin.count {
            let length = Int(bin[offset]) << 8 | Int(bin[offset + 1])
            let frame = Array(bin[(offset + 2)..<(offset + 2 + length)])
            offset += 2 + length
            let bad = try BERTest.record(frame).mismatches(against: expected[index])
            #expect(bad.isEmpty, "frame \(index): \(bad)")
            index += 1
        }
        #expect(offset == bin.count)
        #expect(index == expected.count)
    }

    /// HiPath frames carry the 3-byte `26 80 LL` header.
    func hipath(_ name: String) throws -> CSTARecord? {
        let path = "fixtures/real/hipath/\(name).hex"
        guard SharedFixtures.exists(path) else { return nil }
        let text = try SharedFixtures.lines(path).joined()
        let bytes = BERTest.hexBytes(text)
        #expect(bytes.first == 0x26)
        return try BERTest.record(Array(bytes.dropFirst(3)))
    }

    @Test func hipathEvents() throws {
        guard let delivered = try hipath("CSTA_EventReport_Delivered") else {
            print("skipped: HiPath fixtures not found")
            return
        }
        #expect(delivered.string("pdu") == "invoke")
        #expect(delivered.int("invokeId") == 5)
        #expect(delivered.string("service") == "CSTAEventReport")
        #expect(delivered.string("event") == "delivered")
        #expect(delivered.string("monitorCrossRefID") == "0007")
        #expect(delivered.string("callID") == "b164")
        #expect(delivered.string("connDevice") == "201")
        #expect(delivered.string("device") == "202")
        #expect(delivered.string("calling") == "201")
        #expect(delivered.string("called") == "202")
        #expect(delivered.string("lastRedirection") == "<notKnown>")
        #expect(delivered.string("localConnectionInfo") == "connected")
        #expect(delivered.string("cause") == "normalClearing")
        #expect(delivered["eventError"] == nil)

        let established = try #require(try hipath("CSTA_EventReport_Established"))
        #expect(established.string("event") == "established")
        #expect(established.string("callID") == "b164")

        let cleared = try #require(try hipath("CSTA_EventReport_ConnectionCleared"))
        #expect(cleared.string("event") == "connectionCleared")
        #expect(cleared.string("device") == "202")
        #expect(cleared.string("cause") == "normalClearing")

        let transferred = try #require(try hipath("CSTA_EventReport_Transferred"))
        #expect(transferred.string("event") == "transferred")
        #expect(transferred.string("callID") == "b164")
        #expect(transferred.string("secondaryCallID") == "b169")
        #expect(transferred.string("device") == "201")
        #expect(transferred.string("otherDevice") == "203")
        #expect(transferred.strings("newCallIDs") == ["b16b", "b164"])
        #expect(transferred["eventError"] == nil)
    }

    @Test func hipathServices() throws {
        guard let makeCall = try hipath("CSTA_MakeCall") else {
            print("skipped: HiPath fixtures not found")
            return
        }
        #expect(makeCall.int("op") == 10 && makeCall.string("calling") == "201" && makeCall.string("called") == "202")
        let makeCallResponse = try #require(try hipath("CSTA_MakeCallResponse"))
        #expect(makeCallResponse.string("pdu") == "returnResult")
        #expect(makeCallResponse.string("callID") == "b164" && makeCallResponse.string("connDevice") == "201")
        let monitorStart = try #require(try hipath("CSTA_MonitorStart"))
        #expect(monitorStart.string("monitorObject") == "201")
        let monitorStartResponse = try #require(try hipath("CSTA_MonitorStartResponse"))
        #expect(monitorStartResponse.string("monitorCrossRefID") == "0007")
        let monitorStop = try #require(try hipath("CSTA_MonitorStop"))
        #expect(monitorStop.string("service") == "MonitorStop" && monitorStop.string("monitorCrossRefID") == "0007")
        let stopResponse = try #require(try hipath("CSTA_MonitorStopResponse"))
        #expect(stopResponse.int("op") == 73)
        let status = try #require(try hipath("CSTA_SystemStatus"))
        #expect(status.int("op") == 211 && status.string("systemStatus") == "normal")
        let statusResponse = try #require(try hipath("CSTA_SystemStatusResponse"))
        #expect(statusResponse.string("pdu") == "returnResult" && statusResponse.int("op") == 211)
        let display = try #require(try hipath("CSTA_SetDisplay"))
        #expect(display.int("op") == 274 && display.string("device") == "201")
    }

    @Test func hipathAssociation() throws {
        guard let aarq = try hipath("AARQ_apdu") else {
            print("skipped: HiPath fixtures not found")
            return
        }
        #expect(aarq.string("pdu") == "aarq")
        #expect(aarq.string("applicationContext") == "1.3.12.0.218")
        #expect(aarq.strings("cstaVersions") == ["versionFour"])
        #expect(aarq.string("authenticationName") == "AMHOST")
        let fields = try BERTest.fields(Array(BERTest.hexBytes(try SharedFixtures.lines("fixtures/real/hipath/AARQ_apdu.hex").joined()).dropFirst(3)))
        #expect(fields.authenticationPassword.count == 5)

        let aare = try #require(try hipath("AARE_apdu"))
        #expect(aare.string("pdu") == "aare" && aare.string("result") == "accepted")
        #expect(aare.string("applicationContext") == "1.3.12.0.218")
        #expect(aare.strings("cstaVersions") == ["versionFour"])

        let abrt = try #require(try hipath("ABRT_apdu"))
        #expect(abrt.string("pdu") == "abrt" && abrt.int("acseReason") == 0)
    }

    /// Panasonic's AARE (csta-notes.md) with versionFive.
    @Test func panasonicAARE() throws {
        let aare = try BERTest.record(BERTest.hexBytes(
            "612F 800207 80 A107 06052B0C00815A A203020100 A305A103020101 BE14 2812 06072B0C00821D8148 A007A005 0303000800"))
        #expect(aare.string("result") == "accepted")
        #expect(aare.strings("cstaVersions") == ["versionFive"])
    }
}

@Suite struct BERLengthFormTests {
    /// The HiPath Delivered event with every constructed length rewritten as indefinite decodes to the same keys.
    @Test func indefiniteLengthsDecodeLikeDefinite() throws {
        let definite = BERTest.hexBytes(
            "a15a020105020115305255020007a04ca44a6b0f300d8002b164a10730058003323031630730058003323032610730058003323031"
                + "620730058003323032640287004e01030a01307e12a010180e3230323430313032313031313132")
        let indefinite = Self.indefinite(definite)
        #expect(indefinite.count > definite.count)
        #expect(try BERTest.record(indefinite) == BERTest.record(definite))
    }

    /// Rewrites every constructed TLV with an indefinite length (test helper; definite input only).
    static func indefinite(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            let tag = bytes[i]
            var length = Int(bytes[i + 1])
            var header = 2
            if length & 0x80 != 0 {
                let n = length & 0x7F
                length = 0
                for k in 0..<n { length = length << 8 | Int(bytes[i + 2 + k]) }
                header += n
            }
            let content = Array(bytes[(i + header)..<(i + header + length)])
            if tag & 0x20 != 0 {
                out += [tag, 0x80] + indefinite(content) + [0x00, 0x00]
            } else {
                out += bytes[i..<(i + header + length)]
            }
            i += header + length
        }
        return out
    }
}
