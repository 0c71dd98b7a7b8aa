import CSTA
import Foundation
import NIOCore
import Replay

/// A small deterministic generator (SplitMix64), so every capture a test builds is the same on every run.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Link layers a test capture can use.
enum TestLink: CaseIterable {
    case ethernet, ethernetVLAN, sll, sll2, raw, rawVersioned, null, nullSwapped

    var linkType: UInt16 {
        switch self {
        case .ethernet, .ethernetVLAN: 1
        case .sll: 113
        case .sll2: 276
        case .raw: 101
        case .rawVersioned: 228 // 228 for IPv4; the builder switches to 229 for IPv6
        case .null, .nullSwapped: 0
        }
    }
}

struct TestEndpoint {
    var address: [UInt8] // 4 or 16 bytes
    var port: UInt16
}

/// Builds link + IP + TCP packets (checksums left zero: the reader does not check them).
struct PacketBuilder {
    var link: TestLink
    var ipv6: Bool
    /// IPv4 header options / an IPv6 hop-by-hop header, and TCP options, to exercise header-length handling.
    var withOptions = true

    var linkType: UInt16 { link == .rawVersioned ? (ipv6 ? 229 : 228) : link.linkType }

    func packet(from s: TestEndpoint, to d: TestEndpoint, seq: UInt32, ack: UInt32, flags: UInt8, payload: [UInt8]) -> [UInt8] {
        var tcp: [UInt8] = []
        be16(s.port, &tcp)
        be16(d.port, &tcp)
        be32(seq, &tcp)
        be32(ack, &tcp)
        tcp.append(withOptions ? 8 << 4 : 5 << 4)
        tcp.append(flags)
        be16(65535, &tcp)
        be32(0, &tcp) // checksum, urgent pointer
        if withOptions { tcp += [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2] } // NOP NOP timestamps
        tcp += payload
        var ip: [UInt8] = []
        if ipv6 {
            ip += [0x60, 0, 0, 0]
            let ext: [UInt8] = withOptions ? [6, 0, 1, 4, 0, 0, 0, 0] : [] // hop-by-hop, PadN
            be16(UInt16(ext.count + tcp.count), &ip)
            ip += [withOptions ? 0 : 6, 64]
            ip += s.address + d.address + ext
        } else {
            let headerLength = withOptions ? 24 : 20
            ip += [UInt8(0x40 | headerLength / 4), 0]
            be16(UInt16(headerLength + tcp.count), &ip)
            ip += [0x12, 0x34, 0x40, 0x00, 64, 6, 0, 0]
            ip += s.address + d.address
            if withOptions { ip += [1, 1, 1, 0] } // NOP NOP NOP EOL
        }
        ip += tcp
        let etherType: UInt16 = ipv6 ? 0x86DD : 0x0800
        var frame: [UInt8] = []
        switch link {
        case .ethernet, .ethernetVLAN:
            frame += [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1]
            if link == .ethernetVLAN { frame += [0x81, 0x00, 0x00, 0x64] }
            be16(etherType, &frame)
            frame += ip
            while frame.count < 60 { frame.append(0) } // Ethernet padding: the IP length must win
        case .sll:
            frame += [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]
            be16(etherType, &frame)
            frame += ip
        case .sll2:
            be16(etherType, &frame)
            frame += [0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]
            frame += ip
        case .raw, .rawVersioned:
            frame = ip
        case .null, .nullSwapped:
            let family: UInt32 = ipv6 ? 30 : 2
            let word = link == .null ? family.littleEndian : family.bigEndian
            withUnsafeBytes(of: word) { frame += $0 }
            frame += ip
        }
        return frame
    }

    func be16(_ v: UInt16, _ out: inout [UInt8]) { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    func be32(_ v: UInt32, _ out: inout [UInt8]) { out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
}

/// One TCP conversation between an application and a switch, cut into segments and disturbed the way real captures are.
struct Conversation {
    struct Segment {
        var fromSwitch: Bool
        var seq: UInt32
        var flags: UInt8
        var payload: [UInt8]
    }

    var application = TestEndpoint(address: [10, 0, 0, 1], port: 40000)
    var switchSide = TestEndpoint(address: [10, 0, 0, 2], port: 7001)
    var applicationISN: UInt32 = 0xFFFF_FF00 // wraps early: sequence arithmetic must be modular
    var switchISN: UInt32 = 0x1000_0000

    mutating func useIPv6() {
        application.address = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
        switchSide.address = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]
    }

    /// The handshake, both streams cut at random sizes (1…`maxSegment`: frames split and several per segment),
    /// interleaved; then, per option, segments retransmitted with overlap, adjacent segments swapped, one dropped; FINs.
    func segments(
        switchStream: [UInt8], applicationStream: [UInt8], random: inout SeededRandom, maxSegment: Int = 300,
        retransmit: Bool = true, reorder: Bool = true, drop: (fromSwitch: Bool, index: Int)? = nil
    ) -> (segments: [Segment], dropped: Segment?) {
        func cut(_ stream: [UInt8], isn: UInt32, fromSwitch: Bool) -> [Segment] {
            var out: [Segment] = []
            var i = 0
            while i < stream.count {
                let n = min(Int.random(in: 1...maxSegment, using: &random), stream.count - i)
                out.append(Segment(fromSwitch: fromSwitch, seq: isn &+ 1 &+ UInt32(i), flags: 0x18, payload: Array(stream[i..<(i + n)])))
                i += n
            }
            return out
        }
        var sw = cut(switchStream, isn: switchISN, fromSwitch: true)
        var app = cut(applicationStream, isn: applicationISN, fromSwitch: false)
        var dropped: Segment?
        if let drop {
            if drop.fromSwitch { dropped = sw.remove(at: drop.index) } else { dropped = app.remove(at: drop.index) }
        }
        var merged: [Segment] = [
            Segment(fromSwitch: false, seq: applicationISN, flags: 0x02, payload: []),
            Segment(fromSwitch: true, seq: switchISN, flags: 0x12, payload: []),
            Segment(fromSwitch: false, seq: applicationISN &+ 1, flags: 0x10, payload: []),
        ]
        var (a, b) = (0, 0)
        while a < sw.count || b < app.count {
            let takeSwitch = b >= app.count || (a < sw.count && Bool.random(using: &random))
            if takeSwitch { merged.append(sw[a]); a += 1 } else { merged.append(app[b]); b += 1 }
        }
        var disturbed: [Segment] = Array(merged[0..<3])
        var k = 3
        while k < merged.count {
            if reorder, k + 1 < merged.count, Int.random(in: 0..<6, using: &random) == 0 {
                disturbed += [merged[k + 1], merged[k]]
                k += 2
                continue
            }
            disturbed.append(merged[k])
            if retransmit, Int.random(in: 0..<5, using: &random) == 0 {
                // A retransmission that also overlaps the end of the previous segment of the same direction.
                let s = merged[k]
                let stream = s.fromSwitch ? switchStream : applicationStream
                let isn = s.fromSwitch ? switchISN : applicationISN
                let start = Int(s.seq &- isn &- 1)
                let back = min(start, Int.random(in: 0...40, using: &random))
                let copy = Array(stream[(start - back)..<(start + s.payload.count)])
                disturbed.append(Segment(fromSwitch: s.fromSwitch, seq: s.seq &- UInt32(back), flags: 0x18, payload: copy))
            }
            k += 1
        }
        disturbed.append(Segment(
            fromSwitch: true, seq: switchISN &+ 1 &+ UInt32(switchStream.count), flags: 0x11, payload: []))
        disturbed.append(Segment(
            fromSwitch: false, seq: applicationISN &+ 1 &+ UInt32(applicationStream.count), flags: 0x11, payload: []))
        return (disturbed, dropped)
    }

    func packets(_ segments: [Segment], builder: PacketBuilder) -> [[UInt8]] {
        segments.map { s in
            s.fromSwitch
                ? builder.packet(from: switchSide, to: application, seq: s.seq, ack: 0, flags: s.flags, payload: s.payload)
                : builder.packet(from: application, to: switchSide, seq: s.seq, ack: 0, flags: s.flags, payload: s.payload)
        }
    }
}

/// CSTA messages made by the project's own encoders, framed by its own frame writer.
enum TestMessages {
    /// `count` event reports (switch side) or monitor starts / snapshots (application side), encoded.
    static func payloads(count: Int, fromSwitch: Bool, encoding: CSTAEncoding, seed: UInt64) throws -> [[UInt8]] {
        var random = SeededRandom(seed: seed)
        func hex(_ bytes: Int) -> String {
            (0..<bytes).map { _ in String(format: "%02x", Int.random(in: 0...255, using: &random)) }.joined()
        }
        let events = ["delivered", "established"]
        return try (0..<count).map { i in
            let record: CSTARecord
            if fromSwitch {
                let device = String(Int.random(in: 1000...9999, using: &random))
                record = CSTARecord([
                    "pdu": .string("invoke"), "op": .int(21), "invokeId": .int(Int64(i + 1)),
                    "service": .string("CSTAEventReport"), "event": .string(events[i % events.count]),
                    "eventClass": .string("callControl"), "monitorCrossRefID": .string(hex(2 + i % 3)),
                    "callID": .string(hex(1 + i % 4)), "connDevice": .string(device), "device": .string(device),
                    "calling": .string("+49" + String(Int.random(in: 100_000_000...999_999_999, using: &random))),
                    "called": .string(device), "lastRedirection": .string("<notRequired>"), "cause": .string("newCall"),
                ])
            } else {
                record = CSTARecord([
                    "pdu": .string("invoke"), "op": .int(71), "invokeId": .int(Int64(i + 1)),
                    "service": .string("MonitorStart"),
                    "monitorObject": .string(String(Int.random(in: 1000...9999, using: &random))),
                ])
            }
            return encoding == .ber ? try BERCodec.encode(record) : try XMLCodec.encode(record)
        }
    }

    /// The payloads framed one after the other; also returns where each frame starts and ends in the stream.
    static func stream(_ payloads: [[UInt8]], framing: CSTAFraming) throws -> (bytes: [UInt8], ranges: [Range<Int>]) {
        var out: [UInt8] = []
        var ranges: [Range<Int>] = []
        for (i, p) in payloads.enumerated() {
            let start = out.count
            try CSTAFrameWriter.write(p, framing: framing, invokeId: i % 10000, to: &out)
            ranges.append(start..<out.count)
        }
        return (out, ranges)
    }
}

/// Temporary files for one test.
final class TempDir {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("replay-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = url.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}

/// Everything a reader yields, sorted by kind.
struct ReplayResult {
    var messages: [ReplayMessage] = []
    var gaps: [ReplayGap] = []
    var errors: [ReplayError] = []
    var counters = ReplayCounters()

    init(_ reader: ReplayReader) {
        while let item = reader.next() {
            switch item {
            case .message(let m): messages.append(m)
            case .gap(let g): gaps.append(g)
            case .error(let e): errors.append(e)
            }
        }
        counters = reader.counters
    }

    func payloads(_ direction: ReplayDirection) -> [[UInt8]] {
        messages.filter { $0.direction == direction }.map { Array($0.payload.readableBytesView) }
    }
}
