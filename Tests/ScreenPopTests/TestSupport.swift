import CallModel
import Foundation
import Logging
import Store

/// A fresh database in a fresh temporary folder; `remove()` deletes both.
struct TemporaryStore {
    let folder: URL
    let store: CTIStore

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-screenpop-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        store = try CTIStore(path: folder.appendingPathComponent("test.sqlite").path, logger: quietLogger)
    }

    func file(_ name: String, _ text: String) throws -> String {
        let url = folder.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    func remove() {
        try? store.close()
        try? FileManager.default.removeItem(at: folder)
    }
}

let quietLogger = Logger(label: "ctibridge.screenpop-tests", factory: { _ in SwiftLogNoOpLogHandler() })

/// Whole milliseconds, as call records store them.
func at(_ seconds: Double) -> Date { Date(timeIntervalSince1970: 1_790_000_000 + seconds) }

func callRecord(
    _ id: String, calling: String, called: String = "96510", start: Double, agent: String? = "A1",
    direction: String = "inbound", outcome: String = "answered"
) -> CallRecord {
    CallRecord(
        interactionID: id, callIDs: ["C-\(id)"], calling: calling, called: called, direction: direction,
        startedAt: at(start), answeredAt: at(start + 5), endedAt: at(start + 65), outcome: outcome, queue: "8001",
        waitSeconds: 5, talkSeconds: 60, holdSeconds: 0,
        segments: [.init(device: "4001", agentID: agent, from: at(start + 5), to: at(start + 65), state: "talking")],
        answeredBy: agent, answeredDevice: "4001")
}
