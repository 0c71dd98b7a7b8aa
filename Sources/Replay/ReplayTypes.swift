import CSTA
import NIOCore

/// The kind of input file. `auto` sniffs the magic numbers (pcap, pcapng), then XML (first non-blank byte `<`, or
/// ECMA-323 framed bytes), then a framed binary stream (the first bytes are a frame header or an APDU tag and not
/// text), else hex.
public enum ReplayFormat: String, Sendable, Hashable, CaseIterable {
    case auto, pcap, pcapng, hex, xml
    /// One framed CSTA byte stream, as `ctibridge decode` reads it (BER or XML, any framing).
    case stream
}

/// A capture timestamp: seconds since the Unix epoch and nanoseconds within the second.
public struct ReplayTimestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: UInt32

    public init(seconds: Int64, nanoseconds: UInt32) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static let zero = ReplayTimestamp(seconds: 0, nanoseconds: 0)

    public static func < (a: ReplayTimestamp, b: ReplayTimestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    public var description: String {
        let fraction = String(nanoseconds)
        return "\(seconds)." + String(repeating: "0", count: max(0, 9 - fraction.count)) + fraction
    }
}

/// Which way a byte stream flows on the CTI link. See the README for how the switch's side is chosen.
public enum ReplayDirection: String, Sendable, Hashable {
    case switchToApplication = "switch→application"
    case applicationToSwitch = "application→switch"
    /// Text lines without a direction marker, and framed streams.
    case unknown
}

/// One TCP endpoint: an IPv4 or IPv6 address and a port.
public struct ReplayEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The address bytes (4 for IPv4, 16 for IPv6) packed big-endian into two words.
    public var high: UInt64
    public var low: UInt64
    public var isIPv6: Bool
    public var port: UInt16

    public init(high: UInt64, low: UInt64, isIPv6: Bool, port: UInt16) {
        self.high = high
        self.low = low
        self.isIPv6 = isIPv6
        self.port = port
    }

    public var description: String {
        if !isIPv6 {
            let a = UInt32(truncatingIfNeeded: low)
            return "\(a >> 24).\(a >> 16 & 0xFF).\(a >> 8 & 0xFF).\(a & 0xFF):\(port)"
        }
        var groups: [String] = []
        for word in [high, low] {
            for shift in stride(from: 48, through: 0, by: -16) {
                groups.append(String(UInt16(truncatingIfNeeded: word >> UInt64(shift)), radix: 16))
            }
        }
        return "[" + groups.joined(separator: ":") + "]:\(port)"
    }
}

/// One TCP connection of the capture (or the single pseudo-connection of a text input).
public struct ReplayConnection: Sendable, Hashable, CustomStringConvertible {
    /// 0, 1, 2… in the order connections first appear in the file. A reused 4-tuple after a close gets a new id.
    public var id: Int
    /// The switch's endpoint (the source of switch→application bytes); `nil` for text inputs.
    public var switchSide: ReplayEndpoint?
    /// The application's endpoint; `nil` for text inputs.
    public var applicationSide: ReplayEndpoint?

    public init(id: Int, switchSide: ReplayEndpoint?, applicationSide: ReplayEndpoint?) {
        self.id = id
        self.switchSide = switchSide
        self.applicationSide = applicationSide
    }

    /// `#0 10.0.0.2:7001↔10.0.0.1:40000` (switch first), or `#0 file` for text inputs.
    public var description: String {
        guard let switchSide, let applicationSide else { return "#\(id) file" }
        return "#\(id) \(switchSide)↔\(applicationSide)"
    }
}

/// One framed CSTA message of one direction of one connection. Decode it with
/// `CSTAMessage.decode(payload, encoding: encoding, headerInvokeId: headerInvokeId)`.
public struct ReplayMessage: Sendable {
    /// The capture time of the packet that completed the frame; text inputs: the line prefix's (zero without a date).
    public var timestamp: ReplayTimestamp
    public var connection: ReplayConnection
    public var direction: ReplayDirection
    /// The framing the stream was found to use, and the encoding it carries.
    public var framing: CSTAFraming
    public var encoding: CSTAEncoding
    /// The ECMA-323 header's invoke id, when the framing carries one.
    public var headerInvokeId: Int64?
    /// The message without its frame header.
    public var payload: ByteBuffer
    /// 0, 1, 2… per connection and direction.
    public var frameIndex: Int
    /// The file offset of the packet that completed the frame; hex: of the message's first line; XML and streams: of
    /// the frame's first byte.
    public var fileOffset: Int64
}

/// Bytes of one direction that the capture never had: a hole in the sequence space that no later segment filled.
/// The stream resumes at the first frame start after `resumedAt`.
public struct ReplayGap: Sendable, Hashable {
    public var connection: ReplayConnection
    public var direction: ReplayDirection
    /// The sequence number of the first missing byte.
    public var expectedSeq: UInt32
    /// The sequence number where data resumed.
    public var resumedAt: UInt32
    public var bytesMissing: Int
    /// The file offset of the packet at which the gap was decided.
    public var fileOffset: Int64
}

/// A malformed input, with the file offset where it was found. Every malformed input ends here, never in a trap.
public struct ReplayError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        /// The file could not be opened or read.
        case io
        /// No known format (or not the format asked for).
        case unknownFormat
        /// The file ends inside a header or a record.
        case truncatedFile
        /// A file or block header is malformed (bad magic, bad block length, unknown interface).
        case malformedHeader
        /// A packet's captured length is larger than the snapshot length or the record allows.
        case oversizedRecord
        /// A packet whose link, IP or TCP header is malformed or cut short by the snapshot length.
        case malformedPacket
        /// A link type this reader does not know.
        case unsupportedLinkType
        /// An IP fragment that could not be used: its datagram was incomplete (dropped at a bound, after 60 s, or at
        /// the end of the input), or fragments disagree (different bytes in an overlap, two different ends, a
        /// misaligned or oversized fragment). The name predates reassembly.
        case unsupportedFragment
        /// A text line that is not hex.
        case malformedText
        /// Bytes of a stream that are not a frame (reported by the framing splitter), skipped.
        case framing
    }

    public var kind: Kind
    public var offset: Int64
    public var detail: String

    public init(_ kind: Kind, at offset: Int64, _ detail: String) {
        self.kind = kind
        self.offset = offset
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue) at offset \(offset): \(detail)" }
}

/// What a ``ReplayReader`` yields.
public enum ReplayItem: Sendable {
    case message(ReplayMessage)
    case gap(ReplayGap)
    case error(ReplayError)
}

/// Running totals of a replay.
public struct ReplayCounters: Sendable, Hashable {
    /// Packets (capture records) read, and their captured bytes. Text inputs: hex messages and XML documents read (0
    /// for ECMA-323 framed XML and streams), and the bytes of the file read.
    public var packets = 0
    public var bytes: Int64 = 0
    /// Packets whose captured length is below their original length (snapshot length).
    public var truncatedPackets = 0
    /// Packets that are not TCP over IPv4/IPv6 (ARP, UDP, ICMP…), or TCP not on `--port`.
    public var nonTCPSkipped = 0
    /// IPv4 or IPv6 fragments of TCP datagrams read (each packet that is one).
    public var fragments = 0
    /// Datagrams rebuilt from fragments and handed on to TCP.
    public var reassembledDatagrams = 0
    /// Datagrams whose fragments never all arrived (dropped at a bound, after 60 s, or at the end): one error each.
    public var incompleteDatagrams = 0
    /// Packets with a malformed link, IP or TCP header.
    public var malformedPackets = 0
    /// TCP payload bytes that were retransmitted or overlapped and trimmed.
    public var duplicateBytes: Int64 = 0
    public var gaps = 0
    public var gapBytes: Int64 = 0
    public var connections = 0
    public var messages = 0
    /// Frames the splitter rejected (garbage, bad headers), not counting the resync right after a gap.
    public var framingErrors = 0

    public init() {}
}
