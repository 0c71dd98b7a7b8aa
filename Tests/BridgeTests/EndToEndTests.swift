import Bridge
import CSTA
import CallModel
import Foundation
import Logging
import NIOCore
import Simulator
import Store
import Testing

@Suite("Bridge end to end: simulator → link → call model → journal → call records", .serialized)
struct EndToEndTests {
    /// Every scenario in both encodings (the mixed one with more calls: it has them all).
    static let runs: [(CSTAEncoding, LoadScenario.Kind, Int)] = [
        (.ber, .mixed, 250), (.xml, .mixed, 250), (.ber, .inbound, 80), (.xml, .inbound, 80), (.ber, .outbound, 60),
        (.xml, .outbound, 60), (.ber, .routing, 60), (.xml, .routing, 60),
    ]

    @Test(arguments: runs)
    func callRecordsEqualTheSwitchTruth(encoding: CSTAEncoding, kind: LoadScenario.Kind, calls: Int) async throws {
        let harness = try await BridgeHarness(encoding: encoding)
        defer { Task { await harness.shutdown() } }
        try await harness.startDaemon()
        try await harness.waitUntilLinkUp()
        try await harness.startLoad(calls: calls, rate: 60, kind: kind)
        let (truth, records) = try await harness.waitUntilSettled(timeout: .seconds(60))
        try await harness.stopDaemon()
        #expect(truth.count >= calls / 2)
        let comparison = CallRecordComparison(expected: truth, actual: records, strict: true)
        #expect(comparison.duplicateCallIDs.isEmpty, "\(comparison)")
        #expect(comparison.missing.isEmpty && comparison.extra.isEmpty, "\(comparison)")
        #expect(comparison.matchedShare >= 0.995, "\(comparison)")

        let store = try CTIStore(path: harness.configuration.database.path, logger: .init(label: "test"))
        let integrity = try store.integrityCheck()
        let gaps = try store.journalGaps()
        let open = try await store.openCalls()
        #expect(integrity == ["ok"])
        #expect(gaps.isEmpty)
        #expect(open.isEmpty, "every interaction ended, so no checkpoint is left")
    }

    @Test func linkDropsLoseNoCallAndDoubleNone() async throws {
        // A drop every 2.5 s while calls last a fraction of a second: dozens of calls span a drop in every run.
        let harness = try await BridgeHarness(encoding: .ber, faults: [.drop(every: .milliseconds(2500))])
        defer { Task { await harness.shutdown() } }
        try await harness.startDaemon()
        try await harness.waitUntilLinkUp()
        try await harness.startLoad(calls: 300, rate: 60, seed: 5)
        let (truth, records) = try await harness.waitUntilSettled(timeout: .seconds(60))
        try await harness.stopDaemon()
        let comparison = CallRecordComparison(expected: truth, actual: records)
        let story = try await Self.story(of: comparison.duplicateCallIDs, harness)
        #expect(comparison.duplicateCallIDs.isEmpty, "\(comparison)\n\(story)")
        // A call that began and ended while the link was down is never seen; with drops every 2.5 s and calls of
        // a fraction of a second this is a few calls, not more.
        #expect(comparison.matchedShare >= 0.9, "\(comparison)")
        #expect(records.contains { $0.resynced })
    }

    /// The journal's events for these call ids, for a failure message.
    static func story(of callIDs: [String], _ harness: BridgeHarness) async throws -> String {
        guard !callIDs.isEmpty else { return "" }
        let store = try CTIStore(path: harness.configuration.database.path, logger: .init(label: "test"))
        var lines: [String] = []
        var after: Int64 = 0
        while true {
            let page = try await store.readJournal(after: after, limit: 5000)
            guard let last = page.last else { break }
            for item in page {
                let e = item.event
                let ids = Set((e.callIDs ?? []) + [e.callID].compactMap { $0 })
                if e.kind == .link || !ids.isDisjoint(with: callIDs) {
                    lines.append(
                        "\(item.seq) \(e.kind.rawValue) \(e.interactionID ?? "") \(e.callIDs ?? []) dev=\(e.device ?? "") \(e.linkState ?? "") \(e.cause ?? "") \(e.resynced == true ? "resync" : "")")
                }
            }
            after = last.seq
        }
        return lines.joined(separator: "\n")
    }
}
