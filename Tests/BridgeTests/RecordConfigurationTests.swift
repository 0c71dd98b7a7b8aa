import Bridge
import Replay
import Testing

/// The `record:` section: the recorder's options from the file, and strict, explained errors.
@Suite("Recording configuration")
struct RecordConfigurationTests {
    static let base = "switch: {host: h, port: 1}\nmonitor: {devices: '1'}\n"

    @Test func theRecordSectionGivesTheRecordersOptions() throws {
        let c = try BridgeConfiguration.parse(
            Self.base + "record: {path: /var/log/ctibridge/link.pcapng, maxMegabytes: 100, keep: 10}", source: "t.yaml")
        let options = try #require(c.record?.recorderOptions)
        #expect(options.path == "/var/log/ctibridge/link.pcapng")
        #expect(options.maximumFileBytes == 100 * 1_048_576 && options.keep == 10)
        let plain = try BridgeConfiguration.parse(Self.base + "record: {path: l.pcapng}", source: "t.yaml")
        #expect(plain.record?.recorderOptions == .init(path: "l.pcapng"))
        #expect(try BridgeConfiguration.parse(Self.base, source: "t.yaml").record == nil)
    }

    @Test(arguments: [
        ("record: {path: l.pcapng, maxMegabyte: 5}", "record.maxMegabyte"),
        ("record: {maxMegabytes: 5}", "missing key 'record.path'"),
        ("record: {path: ''}", "'record.path' is empty"),
        ("record: {path: l.pcapng, maxMegabytes: 0}", "'record.maxMegabytes' must be positive"),
        ("record: {path: l.pcapng, maxMegabytes: 1, keep: 0}", "'record.keep' must be at least 1"),
        ("record: {path: l.pcapng, keep: 3}", "'record.keep' needs 'record.maxMegabytes'"),
    ])
    func badRecordSectionsSayWhatIsWrong(yaml: String, expected: String) {
        do {
            _ = try BridgeConfiguration.parse(Self.base + yaml, source: "t.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }
}
