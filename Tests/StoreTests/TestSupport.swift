import CallModel
import Foundation
import Logging
import Store

/// A fresh folder under the system's temporary directory, removed by ``remove()``.
struct TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-store-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func remove() { try? FileManager.default.removeItem(at: url) }
}

let quietLogger = Logger(label: "ctibridge.tests", factory: { _ in SwiftLogNoOpLogHandler() })

func openStore(_ path: String, sync: JournalSync = .normal) throws -> CTIStore {
    try CTIStore(path: path, configuration: .init(sync: sync), logger: quietLogger)
}

/// Whole milliseconds: call records carry ISO-8601 times with milliseconds.
func time(_ seconds: Double) -> Date {
    Date(timeIntervalSince1970: 1_790_000_000 + seconds)
}

func record(
    _ id: String, callIDs: [String], start: Double, calling: String = "+4989123456", outcome: String = "answered"
) -> CallRecord {
    CallRecord(
        interactionID: id, callIDs: callIDs, calling: calling, called: "96510", direction: "inbound",
        startedAt: time(start), answeredAt: time(start + 4), endedAt: time(start + 64), outcome: outcome,
        queue: "8001", waitSeconds: 4, talkSeconds: 55, holdSeconds: 5,
        segments: [
            .init(device: "8001", agentID: nil, from: time(start), to: time(start + 2), state: "queued"),
            .init(device: "4001", agentID: "A1", from: time(start + 2), to: time(start + 4), state: "ringing"),
            .init(device: "4001", agentID: "A1", from: time(start + 4), to: time(start + 64), state: "talking"),
        ],
        answeredBy: "A1", answeredDevice: "4001"
    )
}

/// A mix of event shapes, including strings that need JSON escaping and sub-millisecond times.
func sampleEvents() -> [CallEvent] {
    let now = Date(timeIntervalSinceReferenceDate: 817_142_254.619_730_1)
    return [
        CallEvent(kind: .link, at: now, linkState: "up", reason: "connected"),
        CallEvent(
            kind: .originated, at: now.addingTimeInterval(0.000_1), interactionID: "I-1", callID: "4711",
            callIDs: ["4711"], device: "4001", calling: "4001", called: "0049 89 \"quoted\" \\ back\\slash"
        ),
        CallEvent(
            kind: .ringing, at: now.addingTimeInterval(1.5), interactionID: "I-1", callID: "4711", device: "4002",
            agentID: "Agënt ☎︎ 𝄞", otherDevice: "line\nbreak\ttab\u{01}ctl\r/slash"
        ),
        CallEvent(
            kind: .answered, at: now.addingTimeInterval(2), interactionID: "I-1", callID: "4711",
            callIDs: ["4711", "4712"], device: "4002", queue: "8001", cause: "newCall", resynced: false
        ),
        CallEvent(kind: .agentState, at: now.addingTimeInterval(3), agentID: "A1", agentState: "notReady", reason: "lunch"),
        CallEvent(
            kind: .callEnded, at: now.addingTimeInterval(70), interactionID: "I-1",
            record: record("I-1", callIDs: ["4711", "4712"], start: 0), resynced: true
        ),
        CallEvent(kind: .failed, at: Date(timeIntervalSinceReferenceDate: -1e9), interactionID: "", cause: ""),
    ]
}
