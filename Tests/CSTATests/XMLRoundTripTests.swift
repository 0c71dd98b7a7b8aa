import Foundation
import NIOCore
import Testing

@testable import CSTA

/// encode → decode gives the same keys back, for every corpus record and every service and event kind.
@Suite struct XMLRoundTripTests {
    static func record(_ json: [String: Any]) -> CSTARecord {
        var r = CSTARecord()
        for (key, value) in json where key != "i" && key != "invokeId" {
            if let s = value as? String {
                r[key] = .string(s)
            } else if let l = value as? [String] {
                r[key] = .strings(l)
            } else if let n = value as? Int {
                r[key] = .int(Int64(n))
            }
        }
        return r
    }

    static func roundTrip(_ r: CSTARecord) throws -> CSTARecord {
        try XMLTestSupport.record(XMLCodec.encode(r))
    }

    @Test func everyCorpusRecordRoundTrips() throws {
        guard XMLTestSupport.available(XMLTestSupport.corpusExpected) else { return }
        var bad = 0
        for json in try SharedFixtures.jsonLines(XMLTestSupport.corpusExpected) {
            let want = Self.record(json)
            let got = try Self.roundTrip(want)
            if got != want {
                bad += 1
                if bad <= 5 { Issue.record("\(json["i"] ?? "?"): \(got.values) != \(want.values)") }
            }
        }
        #expect(bad == 0)
    }

    /// Records for every event and service kind the codec writes.
    static let kinds: [[String: CSTARecord.Value]] = {
        var out: [[String: CSTARecord.Value]] = []
        let conn: [String: CSTARecord.Value] = ["callID": .string("FF0001"), "connDevice": .string("4711")]
        func ev(_ name: String, _ cls: String, _ extra: [String: CSTARecord.Value]) -> [String: CSTARecord.Value] {
            var e: [String: CSTARecord.Value] = [
                "pdu": .string("invoke"), "op": .int(21), "service": .string("CSTAEventReport"), "event": .string(name),
                "eventClass": .string(cls), "monitorCrossRefID": .string("00a1"),
            ]
            e.merge(extra) { $1 }
            return e
        }
        let callEvents = [
            "conferenced", "connectionCleared", "delivered", "diverted", "established", "failed", "held",
            "networkReached", "queued", "retrieved", "serviceInitiated", "transferred", "originated",
        ]
        for name in callEvents {
            var extra = conn
            extra["device"] = .string("deviceNumber:100123")
            extra["cause"] = .string("normal")
            extra["localConnectionInfo"] = .string("connected")
            if name != "originated" { extra["calling"] = .string("<restricted>") }
            extra["called"] = .string("N<3021061290002>;noa=nk")
            extra["lastRedirection"] = .string("<notKnown>")
            if ["transferred", "conferenced", "diverted"].contains(name) { extra["otherDevice"] = .string("dynamic:2cd0") }
            if ["transferred", "conferenced"].contains(name) {
                extra["secondaryCallID"] = .string("0b")
                extra["newCallIDs"] = .strings(["01", "02"])
            }
            if name == "queued" { extra["numberQueued"] = .int(7) }
            extra["privateData"] = .string("c0ffee")
            out.append(ev(name, "callControl", extra))
        }
        out.append(ev("callCleared", "callControl", ["callID": .string("77"), "cause": .string("normalClearing")]))
        for name in ["agentLoggedOn", "agentLoggedOff", "agentReady", "agentNotReady", "agentBusy", "agentWorkingAfterCall"] {
            out.append(ev(name, "logicalDeviceFeature", [
                "device": .string("4711"), "agentID": .string("1234"), "acdGroup": .string("explicitPublic:international:4989"),
            ]))
        }
        out.append(ev("callInformation", "callAssociated", conn.merging(["device": .string("other:4711:CM1:10.0.0.1:0")]) { $1 }))
        out.append(ev("backInService", "deviceMaintenance", ["device": .string("4711")]))
        out.append(ev("outOfService", "deviceMaintenance", ["device": .string("4711")]))
        out.append(ev("doNotDisturb", "logicalDeviceFeature", ["device": .string("4711")]))
        // An event the tables do not know keeps its name.
        out.append(["pdu": .string("invoke"), "op": .int(21), "service": .string("CSTAEventReport"),
            "event": .string("vendorThing"), "monitorCrossRefID": .string("01"), "device": .string("4711")])

        func svc(_ pdu: String, _ op: Int64?, _ service: String, _ extra: [String: CSTARecord.Value]) -> [String: CSTARecord.Value] {
            var e: [String: CSTARecord.Value] = ["pdu": .string(pdu), "service": .string(service)]
            if let op { e["op"] = .int(op) }
            e.merge(extra) { $1 }
            return e
        }
        out += [
            svc("invoke", 71, "MonitorStart", ["monitorObject": .string("deviceNumber:100123")]),
            svc("returnResult", 71, "MonitorStart", ["monitorCrossRefID": .string("1136370025")]),
            svc("invoke", 73, "MonitorStop", ["monitorCrossRefID": .string("42"), "privateData": .string("ab")]),
            svc("returnResult", 73, "MonitorStop", [:]),
            svc("invoke", 10, "MakeCall", ["calling": .string("4711"), "called": .string("+4989700712345")]),
            svc("returnResult", 10, "MakeCall", conn),
            svc("invoke", 2, "AnswerCall", conn),
            svc("returnResult", 2, "AnswerCall", [:]),
            svc("invoke", 5, "ClearConnection", conn.merging(["reason": .string("normal")]) { $1 }),
            svc("invoke", 4, "ClearCall", ["callID": .string("0a")]),
            svc("invoke", 9, "HoldCall", conn),
            svc("invoke", 14, "RetrieveCall", conn),
            svc("invoke", 7, "ConsultationCall", conn.merging(["otherDevice": .string("4712")]) { $1 }),
            svc("returnResult", 7, "ConsultationCall", conn),
            svc("invoke", 16, "TransferCall", conn.merging(["secondaryCallID": .string("0c")]) { $1 }),
            svc("returnResult", 16, "TransferCall", conn.merging(["newCallIDs": .strings(["0d"])]) { $1 }),
            svc("invoke", 6, "ConferenceCall", conn.merging(["secondaryCallID": .string("0c")]) { $1 }),
            svc("returnResult", 6, "ConferenceCall", conn.merging(["newCallIDs": .strings(["0d", "0e"])]) { $1 }),
            svc("invoke", 50, "SingleStepTransferCall", conn.merging(["otherDevice": .string("4713")]) { $1 }),
            svc("returnResult", 50, "SingleStepTransferCall", conn),
            svc("invoke", 218, "DeflectCall", conn.merging(["otherDevice": .string("SUB_D")]) { $1 }),
            svc("invoke", 74, "SnapshotDevice", ["device": .string("4711")]),
            svc("returnResult", 74, "SnapshotDevice", ["snapshotCallIDs": .strings(["01", "02"])]),
            svc("returnResult", 74, "SnapshotDevice", ["snapshotCallIDs": .strings([])]),
            svc("invoke", 75, "SnapshotCall", conn),
            svc("returnResult", 75, "SnapshotCall", ["snapshotDevices": .strings(["4711", "<notKnown>", "deviceNumber:5"])]),
            svc("invoke", 211, "SystemStatus", ["systemStatus": .string("normal"), "sysStatRegisterID": .string("27ss")]),
            svc("returnResult", 211, "SystemStatus", [:]),
            svc("invoke", 207, "SystemRegister", [:]),
            svc("returnResult", 207, "SystemRegister", ["sysStatRegisterID": .string("27ss")]),
            svc("invoke", 31, "RouteRequest", [
                "routeingCrossRefID": .string("0f0f"), "currentRoute": .string("8000"), "calling": .string("<notKnown>"),
                "callID": .string("a1"),
            ]),
            svc("invoke", 33, "RouteSelectRequest", ["routeingCrossRefID": .string("0f0f"), "routeSelected": .string("4711")]),
            svc("invoke", 35, "RouteEndRequest", ["routeingCrossRefID": .string("0f0f"), "reason": .string("normal")]),
            svc("invoke", 304, "GetAgentState", ["device": .string("4711")]),
            svc("returnResult", 304, "GetAgentState", ["agentState": .string("agentReady")]),
            svc("invoke", 312, "SetAgentState", [
                "device": .string("4711"), "requestedAgentState": .string("notReady"), "agentID": .string("99"),
                "acdGroup": .string("8000"),
            ]),
            svc("invoke", 51, "Escape", ["privateData": .string("0102")]),
            svc("returnError", nil, "", [:]).filter { $0.key != "service" }.merging([
                "errorCategory": .string("operation"), "errorValue": .string("invalidDeviceID"),
            ]) { $1 },
            svc("invoke", nil, "StartApplicationSession", [
                "applicationID": .string("ctibridge"), "protocolVersion": .string(XMLRecordEncoder.ed3),
                "sessionDuration": .int(180), "authenticationName": .string("cti&user"),
            ]),
            svc("invoke", nil, "StartApplicationSession", [
                "applicationID": .string("ctibridge"), "sessionDuration": .int(180),
                "authenticationName": .string("cti"), "sessionCleanupDelay": .int(60),
            ]),
            svc("invoke", nil, "StartApplicationSession", ["applicationID": .string("ctibridge"), "sessionCleanupDelay": .int(0)]),
            svc("returnResult", nil, "StartApplicationSession", [
                "sessionID": .string("009968951"), "protocolVersion": .string(XMLRecordEncoder.ed3),
                "sessionDuration": .int(600),
            ]),
            svc("returnError", nil, "StartApplicationSession", [
                "errorCategory": .string("definedError"), "errorValue": .string("invalidApplicationInfo"),
            ]),
            svc("invoke", nil, "StopApplicationSession", ["sessionID": .string("9"), "reason": .string("normal")]),
            svc("returnResult", nil, "StopApplicationSession", [:]),
            svc("invoke", nil, "ResetApplicationSessionTimer", ["sessionID": .string("9"), "sessionDuration": .int(60)]),
            svc("returnResult", nil, "ResetApplicationSessionTimer", ["sessionDuration": .int(60)]),
            svc("invoke", nil, "ApplicationSessionTerminated", ["sessionID": .string("9"), "reason": .string("normal")]),
            svc("invoke", nil, "GetDeviceId", ["device": .string("4711")]),
            svc("returnResult", nil, "GetDeviceId", ["device": .string("other:4711:CM1:10.0.0.1:0")]),
        ]
        return out
    }()

    @Test func everyServiceAndEventKindRoundTrips() throws {
        for values in Self.kinds {
            var want = CSTARecord(values)
            if let event = want.string("event"), let type = CSTANames.eventType(named: event) {
                want["eventClass"] = .string(type.eventClass.name)
            }
            let doc = try XMLCodec.encode(want)
            let got = try XMLTestSupport.record(doc)
            #expect(got == want, "\(String(decoding: doc, as: UTF8.self))\n got \(got.values)")
        }
    }

    /// DMCC log-in (`csta-notes.md` "DMCC XML session"): `SessionLoginInfo` in the Avaya namespace inside
    /// `applicationSpecificInfo`, with user name, password and cleanup delay in the schema's order. The decoder reads all
    /// three back; the password through ``CSTAMessage/authenticationPassword`` only, never into the record (records are
    /// printed by `decode` and `tail` and end up in logs).
    @Test func dmccLoginInfoRoundTripsAndThePasswordStaysOutOfTheRecord() throws {
        let login = CSTARecord([
            "pdu": .string("invoke"), "service": .string("StartApplicationSession"), "applicationID": .string("ctibridge"),
            "authenticationName": .string("cti"), "authenticationPassword": .string("s3<cr>et&"),
            "sessionCleanupDelay": .int(60), "sessionDuration": .int(180),
        ])
        let doc = try XMLCodec.encode(login)
        let text = String(decoding: doc, as: UTF8.self)
        #expect(text.contains(
            "<applicationInfo><applicationID>ctibridge</applicationID><applicationSpecificInfo>"
                + "<SessionLoginInfo xmlns=\"http://www.avaya.com/csta\"><userName>cti</userName>"
                + "<password>s3&lt;cr&gt;et&amp;</password><sessionCleanupDelay>60</sessionCleanupDelay></SessionLoginInfo>"
                + "</applicationSpecificInfo></applicationInfo>"), "\(text)")
        var fields = CSTAFields()
        try doc.withUnsafeBytes { try XMLCodec.decode($0, into: &fields) }
        let message = CSTAMessage(encoding: .xml, payload: ByteBuffer(bytes: doc), fields: fields)
        #expect(message.authenticationPassword == "s3<cr>et&")
        var want = login
        want["authenticationPassword"] = nil
        #expect(message.record() == want)
        var json: [UInt8] = []
        KeySetJSON.write(message.record(), to: &json)
        #expect(!String(decoding: json, as: UTF8.self).contains("s3"))
    }

    @Test func textIsEscaped() throws {
        let r = CSTARecord([
            "pdu": .string("invoke"), "op": .int(21), "service": .string("CSTAEventReport"), "event": .string("delivered"),
            "eventClass": .string("callControl"), "monitorCrossRefID": .string("1"), "device": .string("N<30>;a&b"),
        ])
        let doc = String(decoding: try XMLCodec.encode(r), as: UTF8.self)
        #expect(doc.hasPrefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"))
        #expect(doc.contains("N&lt;30&gt;;a&amp;b"))
        #expect(try Self.roundTrip(r) == r)
    }

    @Test func routeSelectUsesTheECMA323ElementName() throws {
        let r = CSTARecord([
            "pdu": .string("invoke"), "op": .int(33), "service": .string("RouteSelectRequest"),
            "routeingCrossRefID": .string("0f"), "routeSelected": .string("4711"),
        ])
        let doc = String(decoding: try XMLCodec.encode(r), as: UTF8.self)
        #expect(doc.contains("<RouteSelect xmlns="))
    }

    @Test func missingKeysAreNamed() {
        #expect(throws: CSTAEncodeError("XML encode: missing key 'pdu'")) { try XMLCodec.encode(CSTARecord()) }
        let noXref = CSTARecord(["pdu": .string("invoke"), "event": .string("delivered")])
        #expect(throws: CSTAEncodeError("XML encode: missing key 'monitorCrossRefID' for event 'delivered'")) {
            try XMLCodec.encode(noXref)
        }
        let noObject = CSTARecord(["pdu": .string("invoke"), "service": .string("MonitorStart")])
        #expect(throws: CSTAEncodeError("XML encode: missing key 'monitorObject' for MonitorStart request")) {
            try XMLCodec.encode(noObject)
        }
        let noError = CSTARecord(["pdu": .string("returnError")])
        #expect(throws: CSTAEncodeError("XML encode: missing key 'errorCategory' for a returnError")) {
            try XMLCodec.encode(noError)
        }
    }
}

@Suite("Snapshot states")
struct SnapshotStateTests {
    @Test(arguments: [CSTAEncoding.ber, .xml])
    func snapshotDeviceStatesRoundTrip(encoding: CSTAEncoding) throws {
        let record = CSTARecord([
            "pdu": .string("returnResult"), "invokeId": .int(7), "op": .int(74), "service": .string("SnapshotDevice"),
            "snapshotCallIDs": .strings(["0001", "00a2", "00b3"]),
            "snapshotStates": .strings(["alerting", "connected", "hold"]),
        ])
        let bytes = encoding == .ber ? try BERCodec.encode(record) : try XMLCodec.encode(record)
        let decoded = try CSTAMessage.decode(ByteBuffer(bytes: bytes), encoding: encoding).record()
        #expect(decoded.strings("snapshotCallIDs") == ["0001", "00a2", "00b3"])
        #expect(decoded.strings("snapshotStates") == ["alerting", "connected", "hold"])
    }

    @Test func unknownStatesAreLeftOut() throws {
        let record = CSTARecord([
            "pdu": .string("returnResult"), "invokeId": .int(7), "op": .int(74), "service": .string("SnapshotDevice"),
            "snapshotCallIDs": .strings(["0001"]),
        ])
        let decoded = try CSTAMessage.decode(ByteBuffer(bytes: try BERCodec.encode(record)), encoding: .ber).record()
        #expect(decoded["snapshotStates"] == nil)
    }

    @Test func simpleCallStateInXML() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?><SnapshotDeviceResponse xmlns="http://www.ecma-international.org/standards/ecma-323/csta/ed3"><crossRefIDorSnapshotData><snapshotData><snapshotDeviceResponseInfo><connectionIdentifier><callID>17</callID><deviceID>4001</deviceID></connectionIdentifier><localCallState><simpleCallState>callDelivered</simpleCallState></localCallState></snapshotDeviceResponseInfo></snapshotData></crossRefIDorSnapshotData></SnapshotDeviceResponse>
            """
        let decoded = try CSTAMessage.decode(ByteBuffer(string: xml), encoding: .xml).record()
        #expect(decoded.strings("snapshotCallIDs") == ["17"])
        #expect(decoded.strings("snapshotStates") == ["alerting"])
    }
}

@Suite("Snapshot call states")
struct SnapshotCallStateTests {
    @Test(arguments: [CSTAEncoding.ber, .xml])
    func snapshotCallPartyStatesRoundTrip(encoding: CSTAEncoding) throws {
        let record = CSTARecord([
            "pdu": .string("returnResult"), "invokeId": .int(8), "op": .int(75), "service": .string("SnapshotCall"),
            "snapshotDevices": .strings(["4001", "+498912345678"]),
            "snapshotDeviceStates": .strings(["connected", "alerting"]),
        ])
        let bytes = encoding == .ber ? try BERCodec.encode(record) : try XMLCodec.encode(record)
        let decoded = try CSTAMessage.decode(ByteBuffer(bytes: bytes), encoding: encoding).record()
        #expect(decoded.strings("snapshotDevices") == ["4001", "+498912345678"])
        #expect(decoded.strings("snapshotDeviceStates") == ["connected", "alerting"])
    }
}

@Suite("GetAgentState response")
struct GetAgentStateResponseTests {
    @Test(arguments: [CSTAEncoding.ber, .xml])
    func theAgentIDComesBack(encoding: CSTAEncoding) throws {
        let record = CSTARecord([
            "pdu": .string("returnResult"), "invokeId": .int(9), "op": .int(304), "service": .string("GetAgentState"),
            "agentState": .string("agentReady"), "agentID": .string("A4001"),
        ])
        let bytes = encoding == .ber ? try BERCodec.encode(record) : try XMLCodec.encode(record)
        let decoded = try CSTAMessage.decode(ByteBuffer(bytes: bytes), encoding: encoding).record()
        #expect(decoded.string("agentState") == "agentReady")
        #expect(decoded.string("agentID") == "A4001")
    }
}
