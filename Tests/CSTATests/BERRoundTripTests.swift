import Foundation
import Testing
@testable import CSTA

@Suite struct BERRoundTripTests {
    /// A JSON line of the corpus as a record (without `i`).
    static func record(_ json: [String: Any]) -> CSTARecord {
        var r = CSTARecord()
        for (key, value) in json where key != "i" {
            if let s = value as? String { r[key] = .string(s) }
            else if let n = value as? Int { r[key] = .int(Int64(n)) }
            else if let l = value as? [String] { r[key] = .strings(l) }
            else if let l = value as? [Any], l.isEmpty { r[key] = .strings([]) }
        }
        return r
    }

    func roundTrip(_ r: CSTARecord, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let apdu = try BEREncoder.encode(r)
        let back = try BERTest.record(apdu)
        let expected = r.values.mapValues { v -> Any in
            switch v {
            case .string(let s): return s
            case .int(let i): return Int(i)
            case .strings(let l): return l
            case .bool(let b): return b
            }
        }
        let bad = back.mismatches(against: expected, ignoring: ["i", "service", "eventClass"])
        #expect(bad.isEmpty, "\(bad)", sourceLocation: sourceLocation)
        #expect(back["eventError"] == nil, sourceLocation: sourceLocation)
    }

    @Test func corpusRecordsRoundTrip() throws {
        let path = "fixtures/corpus-dev/expected.jsonl"
        guard SharedFixtures.exists(path) else {
            print("skipped: ../shared/fixtures not found")
            return
        }
        for json in try SharedFixtures.jsonLines(path) {
            try roundTrip(Self.record(json))
        }
    }

    /// The encoder makes the corpus generator's choices, so most corpus frames re-encode byte for byte; those that
    /// carry optional data outside the key set (correlatorData, callLinkageData, …) cannot.
    @Test func corpusEncodingMatchesGeneratorWhereNoExtras() throws {
        let path = "fixtures/corpus-dev/expected.jsonl"
        guard SharedFixtures.exists(path) else { return }
        let lines = try SharedFixtures.lines("fixtures/corpus-dev/frames.hex")
        var same = 0
        for (i, json) in try SharedFixtures.jsonLines(path).enumerated() {
            if try BEREncoder.encode(Self.record(json)) == BERTest.hexBytes(lines[i]) { same += 1 }
        }
        #expect(same > lines.count / 2, "\(same) of \(lines.count) identical")
    }

    static func r(_ values: [String: CSTARecord.Value]) -> CSTARecord { CSTARecord(values) }

    @Test func everyServiceRoundTrips() throws {
        let cases: [[String: CSTARecord.Value]] = [
            ["pdu": .string("invoke"), "invokeId": .int(1), "op": .int(2), "callID": .string("0102"), "connDevice": .string("4711")],
            ["pdu": .string("invoke"), "invokeId": .int(2), "op": .int(4), "callID": .string("0102")],
            ["pdu": .string("invoke"), "invokeId": .int(3), "op": .int(5), "callID": .string("0102"), "connDevice": .string("dynamic:0a0b"), "reason": .string("22")],
            ["pdu": .string("invoke"), "invokeId": .int(4), "op": .int(6), "callID": .string("01"), "connDevice": .string("4711"), "secondaryCallID": .string("02")],
            ["pdu": .string("invoke"), "invokeId": .int(5), "op": .int(7), "callID": .string("01"), "connDevice": .string("4711"), "called": .string("4712")],
            ["pdu": .string("invoke"), "invokeId": .int(6), "op": .int(218), "callID": .string("01"), "connDevice": .string("4711"), "otherDevice": .string("+4989700")],
            ["pdu": .string("invoke"), "invokeId": .int(7), "op": .int(9), "callID": .string("01"), "connDevice": .string("deviceNumber:100123")],
            ["pdu": .string("invoke"), "invokeId": .int(8), "op": .int(10), "calling": .string("4711"), "called": .string("explicitPublic:international:12125550000")],
            ["pdu": .string("invoke"), "invokeId": .int(9), "op": .int(14), "callID": .string("01"), "connDevice": .string("4711")],
            ["pdu": .string("invoke"), "invokeId": .int(10), "op": .int(16), "callID": .string("01"), "connDevice": .string("4711"), "secondaryCallID": .string("02")],
            ["pdu": .string("invoke"), "invokeId": .int(11), "op": .int(31), "routeingCrossRefID": .string("0a0b"), "currentRoute": .string("8001"), "calling": .string("<restricted>"), "device": .string("8001"), "callID": .string("77")],
            ["pdu": .string("invoke"), "invokeId": .int(12), "op": .int(33), "routeingCrossRefID": .string("0a0b"), "routeSelected": .string("4711")],
            ["pdu": .string("invoke"), "invokeId": .int(13), "op": .int(35), "routeingCrossRefID": .string("0a0b")],
            ["pdu": .string("invoke"), "invokeId": .int(13), "op": .int(35), "routeingCrossRefID": .string("0a0b"), "errorCategory": .string("systemResourceAvailability"), "reason": .string("2")],
            ["pdu": .string("invoke"), "invokeId": .int(14), "op": .int(50), "callID": .string("01"), "connDevice": .string("4711"), "otherDevice": .string("4712")],
            ["pdu": .string("invoke"), "invokeId": .int(15), "op": .int(51), "privateData": .string("deadbeef")],
            ["pdu": .string("invoke"), "invokeId": .int(16), "op": .int(211), "systemStatus": .string("overloadImminent"), "sysStatRegisterID": .string("01")],
            ["pdu": .string("invoke"), "invokeId": .int(17), "op": .int(52), "systemStatus": .string("normal")],
            ["pdu": .string("invoke"), "invokeId": .int(18), "op": .int(71), "monitorObject": .string("implicitPrivate:4711")],
            ["pdu": .string("invoke"), "invokeId": .int(19), "op": .int(73), "monitorCrossRefID": .string("0007")],
            ["pdu": .string("invoke"), "invokeId": .int(20), "op": .int(74), "device": .string("4711"), "privateData": .string("00ff")],
            ["pdu": .string("invoke"), "invokeId": .int(21), "op": .int(75), "callID": .string("01")],
            ["pdu": .string("invoke"), "invokeId": .int(22), "op": .int(207)],
            ["pdu": .string("invoke"), "invokeId": .int(23), "op": .int(304), "device": .string("4711"), "acdGroup": .string("8001")],
            ["pdu": .string("invoke"), "invokeId": .int(24), "op": .int(312), "device": .string("4711"), "requestedAgentState": .string("ready"), "agentID": .string("1234"), "acdGroup": .string("8001")],
            ["pdu": .string("invoke"), "invokeId": .int(25), "op": .int(999)],
            ["pdu": .string("returnResult"), "invokeId": .int(1), "op": .int(2)],
            ["pdu": .string("returnResult"), "invokeId": .int(1), "op": .int(5), "privateData": .string("01")],
            ["pdu": .string("returnResult"), "invokeId": .int(2), "op": .int(6), "callID": .string("03"), "connDevice": .string("4711"), "newCallIDs": .strings(["04", "05"])],
            ["pdu": .string("returnResult"), "invokeId": .int(3), "op": .int(7), "callID": .string("03"), "connDevice": .string("4711")],
            ["pdu": .string("returnResult"), "invokeId": .int(4), "op": .int(10), "callID": .string("03"), "connDevice": .string("4711")],
            ["pdu": .string("returnResult"), "invokeId": .int(5), "op": .int(16), "callID": .string("03"), "newCallIDs": .strings(["06"])],
            ["pdu": .string("returnResult"), "invokeId": .int(6), "op": .int(50), "callID": .string("03")],
            ["pdu": .string("returnResult"), "invokeId": .int(7), "op": .int(71), "monitorCrossRefID": .string("00000007")],
            ["pdu": .string("returnResult"), "invokeId": .int(8), "op": .int(73)],
            ["pdu": .string("returnResult"), "invokeId": .int(9), "op": .int(74), "snapshotCallIDs": .strings(["01", "0203"])],
            ["pdu": .string("returnResult"), "invokeId": .int(10), "op": .int(75), "snapshotDevices": .strings(["4711", "<notKnown>"]), "calling": .string("4711")],
            ["pdu": .string("returnResult"), "invokeId": .int(11), "op": .int(207), "sysStatRegisterID": .string("99")],
            ["pdu": .string("returnResult"), "invokeId": .int(12), "op": .int(211)],
            ["pdu": .string("returnResult"), "invokeId": .int(13), "op": .int(304), "agentID": .string("42"), "acdGroup": .string("8001"), "agentState": .string("agentBusy")],
            ["pdu": .string("returnResult"), "invokeId": .int(14), "op": .int(312)],
            ["pdu": .string("returnResult"), "invokeId": .int(15)],
            ["pdu": .string("returnError"), "invokeId": .int(16), "errorCode": .int(1), "errorCategory": .string("stateIncompatibility"), "errorValue": .string("3")],
            ["pdu": .string("returnError"), "invokeId": .int(16), "errorCode": .int(1), "errorCategory": .string("unspecified")],
            ["pdu": .string("reject"), "invokeId": .int(17), "rejectProblem": .int(1), "rejectValue": .int(2)],
            ["pdu": .string("reject"), "rejectProblem": .int(0), "rejectValue": .int(1)],
            ["pdu": .string("aarq"), "applicationContext": .string("1.3.12.0.218"), "cstaVersions": .strings(["versionFour"]), "authenticationName": .string("AMHOST")],
            ["pdu": .string("aare"), "applicationContext": .string("1.3.12.0.218"), "result": .string("rejectedPermanent"), "cstaVersions": .strings(["versionFive", "versionNineteen"])],
            ["pdu": .string("abrt"), "acseReason": .int(1)],
            ["pdu": .string("rlrq"), "acseReason": .int(0)],
            ["pdu": .string("rlre")],
        ]
        for values in cases { try roundTrip(Self.r(values)) }
    }

    @Test func everyEventRoundTrips() throws {
        func event(_ name: String, _ extra: [String: CSTARecord.Value]) -> CSTARecord {
            var v: [String: CSTARecord.Value] = [
                "pdu": .string("invoke"), "invokeId": .int(9), "op": .int(21), "event": .string(name),
                "monitorCrossRefID": .string("00000001"),
            ]
            v.merge(extra) { _, b in b }
            return CSTARecord(v)
        }
        let conn: [String: CSTARecord.Value] = ["callID": .string("b164"), "connDevice": .string("4711")]
        let parties: [String: CSTARecord.Value] = [
            "calling": .string("+8613800000000"), "called": .string("4711"), "lastRedirection": .string("<notRequired>"),
            "localConnectionInfo": .string("alerting"),
        ]
        func merged(_ dicts: [String: CSTARecord.Value]...) -> [String: CSTARecord.Value] {
            dicts.reduce(into: [:]) { $0.merge($1) { _, b in b } }
        }
        let cases: [CSTARecord] = [
            event("callCleared", ["callID": .string("01"), "cause": .string("normalClearing"), "privateData": .string("abcd")]),
            event("conferenced", merged(conn, ["device": .string("4711"), "otherDevice": .string("4712"), "secondaryCallID": .string("02"), "newCallIDs": .strings(["03", "04"]), "cause": .string("conference"), "privateData": .string("01")])),
            event("connectionCleared", merged(conn, ["device": .string("4711"), "cause": .string("busy")])),
            event("delivered", merged(conn, parties, ["device": .string("4711"), "cause": .string("newCall")])),
            event("diverted", merged(conn, ["device": .string("4711"), "otherDevice": .string("8001"), "lastRedirection": .string("4711"), "cause": .string("redirected")])),
            event("established", merged(conn, parties, ["device": .string("4711"), "cause": .string("normal")])),
            event("failed", merged(conn, parties, ["device": .string("4711"), "cause": .string("busy")])),
            event("held", merged(conn, ["device": .string("4711"), "cause": .string("normal")])),
            event("networkReached", merged(conn, parties, ["device": .string("deviceNumber:100123"), "cause": .string("networkSignal")])),
            event("originated", merged(conn, ["device": .string("4711"), "called": .string("089123"), "cause": .string("makeCall")])),
            event("queued", merged(conn, parties, ["device": .string("8001"), "numberQueued": .int(3), "cause": .string("enteringDistribution")])),
            event("retrieved", merged(conn, ["device": .string("4711"), "cause": .string("alternate")])),
            event("serviceInitiated", merged(conn, ["device": .string("4711"), "cause": .string("newCall")])),
            event("transferred", merged(conn, ["device": .string("4711"), "otherDevice": .string("<restricted>"), "secondaryCallID": .string("02"), "newCallIDs": .strings(["03"]), "cause": .string("transfer")])),
            event("bridged", merged(conn, ["device": .string("4711"), "cause": .string("normal")])),
            event("offered", merged(conn, parties, ["device": .string("4711")])),
            event("agentBusy", ["device": .string("4711"), "agentID": .string("42"), "cause": .string("normal")]),
            event("agentLoggedOn", ["device": .string("4711"), "agentID": .string("42"), "acdGroup": .string("8001"), "cause": .string("normal")]),
            event("agentLoggedOff", ["device": .string("4711"), "agentID": .string("42")]),
            event("agentNotReady", ["device": .string("4711"), "agentID": .string("42"), "cause": .string("forcedPause")]),
            event("agentReady", ["device": .string("4711"), "acdGroup": .string("8001")]),
            event("agentWorkingAfterCall", ["device": .string("4711"), "agentID": .string("42"), "acdGroup": .string("8001"), "cause": .string("autoWork")]),
            event("callInformation", merged(conn, ["device": .string("4711")])),
            event("backInService", ["device": .string("4711"), "cause": .string("maintenance")]),
            event("outOfService", ["device": .string("4711")]),
            event("privateEvent", [:]),
            event("callControl:40", merged(conn, ["device": .string("4711")])),
            event("deviceMaintenance:200", ["device": .string("4711")]),
        ]
        for r in cases { try roundTrip(r) }
    }

    @Test func missingMandatoryKeysAreNamed() {
        let noCause = CSTARecord([
            "pdu": .string("invoke"), "invokeId": .int(1), "op": .int(21), "event": .string("held"),
            "monitorCrossRefID": .string("01"), "callID": .string("01"), "device": .string("4711"),
        ])
        #expect(throws: CSTAEncodeError("missing mandatory key 'cause'")) { try BEREncoder.encode(noCause) }
        #expect(throws: CSTAEncodeError("missing mandatory key 'invokeId'")) {
            try BEREncoder.encode(CSTARecord(["pdu": .string("invoke"), "op": .int(2)]))
        }
        #expect(throws: CSTAEncodeError("missing mandatory key 'calling'")) {
            try BEREncoder.encode(CSTARecord(["pdu": .string("invoke"), "invokeId": .int(1), "op": .int(10), "called": .string("1")]))
        }
    }
}
