import Bridge
import CSTA
import CSTALink
import Foundation
import Logging
import NIOCore
import Replay
import Simulator
import Testing

/// `serve` with a `record:` section: the daemon records its link while it runs, and the file replays afterwards.
@Suite(.serialized, .timeLimit(.minutes(1))) struct RecordingDaemonTests {
    @Test func theDaemonRecordsItsLinkToAFileThatReplays() async throws {
        let harness = try await BridgeHarness(encoding: .ber, agents: 10)
        var configuration = harness.configuration
        let path = harness.directory + "/link.pcapng"
        configuration.record = .init(path: path, maxMegabytes: 0.002, keep: nil)  // ~2 KB: several files
        let stop = harness.stop
        let linkUp = AsyncStream<Void>.makeStream()
        let daemon = Task { [configuration] in
            try await BridgeDaemon.run(
                configuration: configuration, registry: BridgeHarness.registry,
                logger: Logger(label: "test.bridge") { _ in SwiftLogNoOpLogHandler() }, extraServices: [stop],
                onStatus: { status in if status.link?.state == .up { linkUp.continuation.yield() } })
        }
        harness.daemon.withLock { $0 = daemon }
        defer { Task { await harness.shutdown() } }
        // Calls placed before the link is up would be half in the recording.
        for await _ in linkUp.stream { break }

        try await harness.startLoad(calls: 3, rate: 20, seed: 4, timeScale: 0.01, kind: .inbound)
        let (truth, records) = try await harness.waitUntilSettled(timeout: .seconds(20))
        #expect(truth.count == 3 && records.count >= 3)
        try await harness.stopDaemon()

        var files = [path]
        while FileManager.default.fileExists(atPath: "\(path).\(files.count)") { files.append("\(path).\(files.count)") }
        #expect(files.count >= 2, "the 2 KB limit did not rotate: \(files)")
        var events: [String] = []
        var sent: [CSTARecord] = []
        for file in files {
            let reader = try ReplaySource.open(path: file)
            while let item = reader.next() {
                switch item {
                case .message(let m):
                    let record = try #require(try? CSTAMessage.decode(m.payload, encoding: m.encoding).record(), "\(file)")
                    if m.direction == .applicationToSwitch { sent.append(record) }
                    if let event = record.string("event") { events.append(event) }
                case .gap(let gap): Issue.record("\(file): \(gap)")
                case .error(let error): Issue.record("\(file): \(error)")
                }
            }
        }
        #expect(sent.first?.string("pdu") == "aarq")
        #expect(events.filter { $0 == "delivered" }.count >= 3 && events.contains("connectionCleared"), "\(events)")
    }
}
