import CSTA
import Foundation
import NIOSSL
import Testing

@testable import CSTALink

/// A CA and a `localhost` server certificate made with the `openssl` command line, in a fresh directory.
struct TestPKI {
    let dir: URL
    var caFile: String { dir.appendingPathComponent("ca.pem").path }
    var certFile: String { dir.appendingPathComponent("server.pem").path }
    var keyFile: String { dir.appendingPathComponent("server.key").path }
    var otherCAFile: String { dir.appendingPathComponent("other-ca.pem").path }

    static func openssl() -> String? {
        ["/usr/bin/openssl", "/usr/local/bin/openssl", "/bin/openssl"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func make() throws -> TestPKI? {
        guard let openssl = openssl() else { return nil }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ctibridge-pki-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func run(_ args: [String]) throws {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: openssl)
            p.arguments = args
            p.currentDirectoryURL = dir
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            p.waitUntilExit()
            guard p.terminationStatus == 0 else { throw CSTALinkError(.connectFailed, "openssl \(args.first ?? "") failed") }
        }
        try "subjectAltName=DNS:localhost\n".write(to: dir.appendingPathComponent("san.ext"), atomically: true, encoding: .utf8)
        for name in ["ca", "other-ca"] {
            try run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "\(name).key", "-out", "\(name).pem",
                "-days", "2", "-subj", "/CN=ctibridge test \(name)"])
        }
        try run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
        try run(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
            "-out", "server.pem", "-days", "2", "-extfile", "san.ext"])
        return TestPKI(dir: dir)
    }
}

@Suite(.timeLimit(.minutes(1))) struct TLSLinkTests {
    @Test func tlsWithATestCA() async throws {
        guard let pki = try TestPKI.make() else {
            print("TLS test skipped: no openssl command line found")
            return
        }
        defer { try? FileManager.default.removeItem(at: pki.dir) }
        let serverTLS = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.certFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.keyFile, format: .pem)))
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath, tls: try NIOSSLContext(configuration: serverTLS))

        var config = testConfig(.hipathBER, port: sw.port)
        var tls = LinkConfiguration.TLS(caFile: pki.caFile)
        tls.serverName = "localhost"
        config.tls = tls
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001"])
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        _ = try await link.makeCall(from: "4001", to: "4711")
        #expect(await log.first { $0.cstaMessage?.device == "4001" } != nil)
        await link.shutdown()

        // A CA that did not sign the switch's certificate: the handshake fails, the link never comes up.
        var wrong = config
        wrong.tls = LinkConfiguration.TLS(caFile: pki.otherCAFile)
        wrong.tls?.serverName = "localhost"
        let bad = CSTALinkClient(configuration: wrong, logger: quietLogger())
        let badLog = EventLog(bad)
        await bad.start()
        #expect(await badLog.first { $0.linkState == .down } != nil)
        #expect(await bad.linkIsUp == false)
        await bad.shutdown()

        // The hostname check: the certificate names localhost, not example.org.
        var misnamed = config
        misnamed.tls?.serverName = "example.org"
        let other = CSTALinkClient(configuration: misnamed, logger: quietLogger())
        let otherLog = EventLog(other)
        await other.start()
        #expect(await otherLog.first { $0.linkState == .down } != nil)
        #expect(await other.linkIsUp == false)
        await other.shutdown()
        await sw.shutdown()
    }
}
