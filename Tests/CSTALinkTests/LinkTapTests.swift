import CSTA
import Foundation
import NIOCore
import NIOSSL
import Synchronization
import Testing

@testable import CSTALink

/// Keeps everything a ``LinkTap`` is told, in order.
final class CollectingTap: LinkTap {
    enum Entry: Sendable {
        case opened(LinkTapConnection)
        case bytes([UInt8], LinkTapDirection, Int64, LinkTapConnection)
        case closed(LinkTapConnection, sent: Int64, received: Int64)
    }

    private let entries = Mutex<[Entry]>([])
    var all: [Entry] { entries.withLock { $0 } }

    func linkOpened(_ connection: LinkTapConnection) { entries.withLock { $0.append(.opened(connection)) } }

    func linkBytes(_ bytes: ByteBuffer, direction: LinkTapDirection, streamOffset: Int64, connection: LinkTapConnection) {
        let copy = Array(bytes.readableBytesView)
        entries.withLock { $0.append(.bytes(copy, direction, streamOffset, connection)) }
    }

    func linkClosed(_ connection: LinkTapConnection, sent: Int64, received: Int64) {
        entries.withLock { $0.append(.closed(connection, sent: sent, received: received)) }
    }

    /// The chunks of one direction on one connection.
    func chunks(_ direction: LinkTapDirection, on connection: LinkTapConnection) -> [(bytes: [UInt8], offset: Int64)] {
        all.compactMap {
            guard case .bytes(let b, let d, let o, let c) = $0, d == direction, c == connection else { return nil }
            return (b, o)
        }
    }

    var connections: [LinkTapConnection] { all.compactMap { if case .opened(let c) = $0 { c } else { nil } } }
    var closed: [LinkTapConnection] { all.compactMap { if case .closed(let c, _, _) = $0 { c } else { nil } } }

    /// The stream lengths a close reported.
    func lengths(at connection: LinkTapConnection) -> (sent: Int64, received: Int64)? {
        for case .closed(let c, let sent, let received) in all where c == connection { return (sent, received) }
        return nil
    }
}

/// The link's tap (`--record`'s source): real addresses, whole frames in plain text even over TLS, continuous
/// offsets, open and close per connection.
@Suite(.serialized, .timeLimit(.minutes(1))) struct LinkTapTests {
    /// Each chunk is exactly one whole frame of the link's framing (header included); returns their decoded records.
    static func frames(_ chunks: [(bytes: [UInt8], offset: Int64)], framing: CSTAFraming) -> [CSTARecord?] {
        var expectedOffset: Int64 = 0
        var out: [CSTARecord?] = []
        for chunk in chunks {
            #expect(chunk.offset == expectedOffset, "a chunk at \(chunk.offset), expected \(expectedOffset)")
            expectedOffset += Int64(chunk.bytes.count)
            var splitter = CSTAFrameSplitter(framing: framing)
            let step = chunk.bytes.withUnsafeBytes { splitter.next($0, atEnd: false) }
            guard case .frame(let header, let length, let consumed, _) = step, consumed == chunk.bytes.count else {
                Issue.record("not one whole frame: \(step) for \(chunk.bytes.count) bytes")
                out.append(nil)
                continue
            }
            let payload = ByteBuffer(bytes: chunk.bytes[header..<(header + length)])
            out.append(try? CSTAMessage.decode(payload, encoding: .ber).record())
        }
        return out
    }

    @Test func overTLSTheTapSeesThePlainFramesWithTheRealAddresses() async throws {
        guard let pki = try TestPKI.make() else { return } // no openssl: nothing to sign a certificate with
        defer { try? FileManager.default.removeItem(at: pki.dir) }
        let serverTLS = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMFile(pki.certFile).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(file: pki.keyFile, format: .pem)))
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath, tls: try NIOSSLContext(configuration: serverTLS))
        let port = sw.port // not after the switch shut down
        let tap = CollectingTap()
        var config = testConfig(.hipathBER, port: port)
        config.tls = LinkConfiguration.TLS(caFile: pki.caFile)
        config.tls?.serverName = "localhost"
        config.tap = tap
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        await link.addMonitors(["4001", "4002"])
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        _ = try await link.makeCall(from: "4001", to: "4711")
        await link.shutdown()
        await sw.shutdown()

        let connection = try #require(tap.connections.first)
        #expect(tap.connections.count == 1 && tap.closed == [connection])
        #expect(connection.remote.port == port && connection.local.port != port && connection.role == .client)
        #expect(connection.local.ipAddress == "127.0.0.1" && connection.remote.ipAddress == "127.0.0.1")
        // What the link sent, decrypted and frame by frame, is what the switch decoded.
        let sent = Self.frames(tap.chunks(.toSwitch, on: connection), framing: .hipath)
        #expect(sent.first??.string("pdu") == "aarq")
        #expect(sent.compactMap { $0 } == sw.state.with { $0.requests }, "sent \(sent.count) frames")
        let received = Self.frames(tap.chunks(.fromSwitch, on: connection), framing: .hipath)
        #expect(!received.contains(nil) && received.first??.string("pdu") == "aare")
        #expect(received.contains { $0?.string("event") == "originated" })
    }

    @Test func aReconnectIsANewConnectionWithOffsetsFromZero() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .u16)
        let tap = CollectingTap()
        var config = testConfig(.hipathBER, port: sw.port)
        config.framing = .u16
        config.tap = tap
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        sw.dropConnections()
        let second = await eventually(within: .seconds(5)) { tap.connections.count == 2 && tap.closed.count == 1 }
        #expect(second)
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        await link.shutdown()
        await sw.shutdown()

        let connections = tap.connections
        try #require(connections.count == 2)
        #expect(connections[0].local != connections[1].local, "a reconnect dials from a new port")
        #expect(tap.closed == connections)
        for c in connections {
            // Offsets start at zero and run on per connection (checked in `frames`).
            let sent = Self.frames(tap.chunks(.toSwitch, on: c), framing: .u16)
            #expect(sent.first??.string("pdu") == "aarq")
            let total = (tap.chunks(.toSwitch, on: c).map(\.bytes.count).reduce(0, +),
                tap.chunks(.fromSwitch, on: c).map(\.bytes.count).reduce(0, +))
            #expect(tap.lengths(at: c).map { ($0.sent, $0.received) == (Int64(total.0), Int64(total.1)) } == true)
            #expect(!Self.frames(tap.chunks(.fromSwitch, on: c), framing: .u16).contains(nil))
        }
    }
}
