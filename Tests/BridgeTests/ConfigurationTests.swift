import Bridge
import CSTA
import CSTALink
import CallModel
import Foundation
import Testing

@Suite("Daemon configuration file")
struct ConfigurationTests {
    static let example: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.appendingPathComponent("deploy/ctibridge.yaml").path
    }()

    @Test func theDeployExampleIsValid() throws {
        let c = try BridgeConfiguration.load(path: Self.example)
        #expect(c.switch.host == "10.0.0.5" && c.switch.port == 1040)
        #expect(c.monitoredDevices().count == 52)
        let link = c.linkConfiguration()
        #expect(link.flavour == .hipathBER && link.framing == .hipath)
        #expect(link.credentials.aarqName == "AMHOST")
        #expect(link.heartbeatInterval == .seconds(10))
        #expect(c.callModelConfiguration().queueDevices == ["8001", "8100"])
    }

    @Test func defaultsFillWhatIsLeftOut() throws {
        let c = try BridgeConfiguration.parse(
            """
            switch: {host: pbx.example.net, port: 4721, flavour: dmccXML}
            monitor: {devices: "4001"}
            """, source: "t.yaml")
        #expect(c.database.sync == "normal" && c.journal.batchSize == 512 && c.http.listen == "127.0.0.1:8080")
        #expect(c.linkConfiguration().encoding == .xml && c.linkConfiguration().framing == .ecma323)
    }

    @Test(arguments: [
        ("switch: {host: h, port: 1, hearbeatSeconds: 3}\nmonitor: {devices: '1'}", "switch.hearbeatSeconds"),
        ("switch: {port: 1}\nmonitor: {devices: '1'}", "missing key 'switch.host'"),
        ("switch: {host: h, port: 1, flavour: cisco}\nmonitor: {devices: '1'}", "'switch.flavour' 'cisco'"),
        ("switch: {host: h, port: 99999}\nmonitor: {devices: '1'}", "not a TCP port"),
        ("switch: {host: h, port: 1}\nmonitor: {devices: '4010-4001'}", "monitor"),
        ("switch: {host: h, port: 1}\nmonitor: {devices: '1'}\ndatabase: {sync: sometimes}", "'database.sync'"),
        ("switch: {host: h, port: one}\nmonitor: {devices: '1'}", "'switch.port' should be a whole number"),
        ("switch: [", "t.yaml"),
    ])
    func badFilesSayWhatIsWrong(yaml: String, expected: String) {
        do {
            _ = try BridgeConfiguration.parse(yaml, source: "t.yaml")
            Issue.record("accepted: \(yaml)")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
            #expect(error.description.hasPrefix("t.yaml"))
        }
    }
}
