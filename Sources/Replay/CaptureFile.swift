/// One captured packet, its bytes a view into the reader's window (valid until the next call on the reader).
struct CapturedPacket {
    var timestamp: ReplayTimestamp
    var linkType: UInt32
    var bytes: UnsafeRawBufferPointer
    var originalLength: Int
    /// File offset of the record (pcap record header, pcapng block).
    var fileOffset: Int64
    /// pcapng `epb_flags` direction: received by the capturing host (`true`), sent by it (`false`), or not said.
    var inbound: Bool? = nil
}

/// What a capture reader yields: a packet, or a problem it stepped over.
enum CaptureEvent {
    case packet(CapturedPacket)
    case problem(ReplayError)
}

/// A capture file read record by record. `next()` throws only for faults it cannot step over; `nil` is the end.
protocol CaptureFile: AnyObject {
    func next() throws(ReplayError) -> CaptureEvent?
}

/// Little- and big-endian loads from a byte view, bounds checked by the callers.
struct ByteOrder {
    var bigEndian: Bool

    @inline(__always) func u16(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt16 {
        let v = UInt16(b[i]) | UInt16(b[i + 1]) << 8
        return bigEndian ? v.byteSwapped : v
    }

    @inline(__always) func u32(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        let v = UInt32(b[i]) | UInt32(b[i + 1]) << 8 | UInt32(b[i + 2]) << 16 | UInt32(b[i + 3]) << 24
        return bigEndian ? v.byteSwapped : v
    }
}

/// Classic libpcap files: magic `a1b2c3d4` (microseconds) or `a1b23c4d` (nanoseconds), written in either byte order.
final class PcapReader: CaptureFile {
    static let headerLength = 24
    static let recordHeaderLength = 16
    /// Records above this are corrupt whatever the snapshot length says (pcap's own bound is 256 KiB; allow more).
    static let maximumRecord = 16 << 20

    private let file: ChunkedFile
    let order: ByteOrder
    let nanosecondResolution: Bool
    let snapshotLength: Int
    let linkType: UInt32
    private var failed = false

    init(file: ChunkedFile) throws(ReplayError) {
        self.file = file
        guard try file.ensure(Self.headerLength) else {
            throw ReplayError(.truncatedFile, at: file.offset, "pcap file header needs 24 bytes, the file has \(file.available)")
        }
        let h = file.peek(Self.headerLength)
        let little = ByteOrder(bigEndian: false).u32(h, 0)
        switch little {
        case 0xA1B2_C3D4: (order, nanosecondResolution) = (ByteOrder(bigEndian: false), false)
        case 0xA1B2_3C4D: (order, nanosecondResolution) = (ByteOrder(bigEndian: false), true)
        case 0xD4C3_B2A1: (order, nanosecondResolution) = (ByteOrder(bigEndian: true), false)
        case 0x4D3C_B2A1: (order, nanosecondResolution) = (ByteOrder(bigEndian: true), true)
        default: throw ReplayError(.unknownFormat, at: 0, "not a pcap file (magic \(hex32(little)))")
        }
        let major = order.u16(h, 4)
        guard major == 2 else { throw ReplayError(.malformedHeader, at: 4, "pcap version \(major) (expected 2)") }
        snapshotLength = Int(order.u32(h, 16))
        // The link type is the low 16 bits; the high bits carry the FCS length flags.
        linkType = order.u32(h, 20) & 0xFFFF
        try file.skip(Self.headerLength)
    }

    func next() throws(ReplayError) -> CaptureEvent? {
        guard !failed, try file.ensure(1) else { return nil }
        let at = file.offset
        guard try file.ensure(Self.recordHeaderLength) else {
            failed = true
            let have = file.available
            return .problem(ReplayError(.truncatedFile, at: at, "record header cut short (\(have) of 16 bytes)"))
        }
        let r = file.peek(Self.recordHeaderLength)
        let seconds = order.u32(r, 0)
        let fraction = order.u32(r, 4)
        let captured = Int(order.u32(r, 8))
        let original = Int(order.u32(r, 12))
        guard captured <= Self.maximumRecord else {
            // Nothing in a pcap record says where the next one starts: stop here.
            failed = true
            return .problem(ReplayError(
                .oversizedRecord, at: at,
                "record claims \(captured) captured bytes (snapshot length \(snapshotLength)); reading stops"))
        }
        guard try file.ensure(Self.recordHeaderLength + captured) else {
            failed = true
            let have = file.available - Self.recordHeaderLength
            return .problem(ReplayError(.truncatedFile, at: at, "record of \(captured) bytes cut short at \(have)"))
        }
        try file.skip(Self.recordHeaderLength)
        let bytes = file.peek(captured)
        // The view stays valid until the next call: the skip below only moves the window's start.
        try file.skip(captured)
        // A fraction of a second or more (some writers round up) carries into the seconds.
        let nanos = Int64(fraction) * (nanosecondResolution ? 1 : 1000)
        return .packet(CapturedPacket(
            timestamp: ReplayTimestamp(
                seconds: Int64(seconds) + nanos / 1_000_000_000, nanoseconds: UInt32(nanos % 1_000_000_000)),
            linkType: linkType, bytes: bytes, originalLength: original, fileOffset: at))
    }
}

func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}
