import Bridge
import CSTA
import CallModel
import Foundation
import Logging
import Replay
import Store
import Testing

/// `replay --into-db` on a switch trace log written here message by message (not by the simulator): the link's
/// start-up read from the trace, the pipeline's agent-state question answered from it, and every time the log's.
@Suite struct TraceIngestTests {
    static let start = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T09:46:40Z

    /// One log line: `2026-11-18 09:46:40.000 send: a1 13 …` at `start + offset`.
    static func line(_ offset: Double, _ direction: String, _ record: [String: CSTARecord.Value]) throws -> String {
        let bytes = try BERCodec.encode(CSTARecord(record))
        let time = start.addingTimeInterval(offset)
        let stamp = time.formatted(
            Date.ISO8601FormatStyle(dateSeparator: .dash, dateTimeSeparator: .space, timeZone: TimeZone(identifier: "UTC")!)
                .year().month().day().time(includingFractionalSeconds: true))
        return "\(stamp) \(direction): " + bytes.map { String(format: "%02x", $0) }.joined(separator: " ")
    }

    static func event(_ invokeId: Int64, _ event: String, _ keys: [String: CSTARecord.Value]) -> [String: CSTARecord.Value] {
        var record: [String: CSTARecord.Value] = [
            "pdu": .string("invoke"), "op": .int(21), "service": .string("CSTAEventReport"), "invokeId": .int(invokeId),
            "event": .string(event), "monitorCrossRefID": .string("00c1"), "callID": .string("0a01"),
            "connDevice": .string("4001"),
        ]
        record.merge(keys) { $1 }
        return record
    }

    /// An inbound call to agent 4001: delivered at +1 s, answered at +3.5 s, both ends cleared at +13.5 s. The
    /// agent's id comes only from the GetAgentState the bridge asked after link-up.
    static func traceLog(agentStateAnswered: Bool) throws -> String {
        var lines = [
            try line(0.000, "send", ["pdu": .string("invoke"), "op": .int(71), "invokeId": .int(1), "service": .string("MonitorStart"), "monitorObject": .string("4001")]),
            try line(0.010, "recv", ["pdu": .string("returnResult"), "op": .int(71), "invokeId": .int(1), "service": .string("MonitorStart"), "monitorCrossRefID": .string("00c1")]),
            try line(0.020, "send", ["pdu": .string("invoke"), "op": .int(74), "invokeId": .int(2), "service": .string("SnapshotDevice"), "device": .string("4001")]),
            try line(0.030, "recv", ["pdu": .string("returnResult"), "op": .int(74), "invokeId": .int(2), "service": .string("SnapshotDevice"), "snapshotCallIDs": .strings([])]),
            try line(0.040, "send", ["pdu": .string("invoke"), "op": .int(304), "invokeId": .int(3), "service": .string("GetAgentState"), "device": .string("4001")]),
        ]
        if agentStateAnswered {
            lines.append(try line(0.050, "recv", [
                "pdu": .string("returnResult"), "op": .int(304), "invokeId": .int(3), "service": .string("GetAgentState"),
                "agentState": .string("agentReady"), "agentID": .string("A4001"),
            ]))
        }
        lines += [
            try line(1.000, "recv", event(9, "delivered", [
                "device": .string("4001"), "calling": .string("+498912345"), "called": .string("96510"),
                "cause": .string("newCall"), "lastRedirection": .string("<notRequired>"),
            ])),
            try line(3.500, "recv", event(10, "established", [
                "device": .string("4001"), "calling": .string("+498912345"), "called": .string("96510"),
                "cause": .string("normal"), "lastRedirection": .string("<notRequired>"),
            ])),
            try line(13.500, "recv", event(11, "connectionCleared", ["device": .string("+498912345"), "cause": .string("normalClearing")])),
            try line(13.500, "recv", event(12, "connectionCleared", ["device": .string("4001"), "cause": .string("normalClearing")])),
        ]
        return lines.joined(separator: "\n") + "\n"
    }

    static func ingest(_ log: String) async throws -> (TraceIngest.Outcome, [CallRecord]) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-trace-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("switch.log").path
        try log.write(toFile: path, atomically: true, encoding: .utf8)
        let database = dir.appendingPathComponent("scratch.sqlite").path
        let trace = try TraceLink(path: path, format: .hex, port: nil, options: .init(lookaheadSeconds: 5))
        let outcome = try await TraceIngest.run(
            trace: trace, databasePath: database,
            model: .init(dialPlan: DialPlan(internalNumbers: ["96510"])), logger: Logger(label: "test"))
        let store = try CTIStore(path: database, logger: Logger(label: "test"))
        return (outcome, try await store.calls(since: nil, until: nil, limit: nil))
    }

    @Test func theCallCarriesTheLogsTimesAndTheAgentTheTraceAnswered() async throws {
        let (outcome, records) = try await Self.ingest(try Self.traceLog(agentStateAnswered: true))
        #expect(outcome.follower.linkUps == 1 && outcome.follower.unanswered == 0)
        #expect(outcome.summary.messages == 10 && outcome.summary.decodeErrors == 0)
        let record = try #require(records.first)
        #expect(records.count == 1 && record.callIDs == ["0a01"])
        #expect(record.calling == "+498912345" && record.called == "96510" && record.direction == "inbound")
        #expect(record.outcome == "answered" && record.answeredBy == "A4001" && record.answeredDevice == "4001")
        #expect(abs(record.startedAt.timeIntervalSince(Self.start) - 1.0) < 0.001)
        #expect(abs((record.answeredAt?.timeIntervalSince(Self.start) ?? -1) - 3.5) < 0.001)
        #expect(abs(record.endedAt.timeIntervalSince(Self.start) - 13.5) < 0.001)
        #expect(abs(record.waitSeconds - 2.5) < 0.001 && abs(record.talkSeconds - 10) < 0.001)
        #expect(!record.resynced)
    }

    /// A trace whose GetAgentState was never answered: the pipeline's question fails (as a timed-out request would
    /// live), the call is still recorded, without the agent id.
    @Test func anUnansweredQuestionDoesNotStopTheReplay() async throws {
        let (outcome, records) = try await Self.ingest(try Self.traceLog(agentStateAnswered: false))
        #expect(outcome.follower.unanswered == 1 && outcome.follower.linkUps == 1)
        let record = try #require(records.first)
        #expect(record.outcome == "answered" && record.answeredBy == nil && record.answeredDevice == "4001")
        #expect(abs(record.talkSeconds - 10) < 0.001)
    }
}
