/// pcapng files: section header blocks in either byte order (a new section restarts the interface list), interface
/// description blocks (link type, `if_tsresol`), enhanced and simple packet blocks, the obsolete packet block; every
/// other block is skipped by its length.
final class PcapngReader: CaptureFile {
    static let sectionHeader: UInt32 = 0x0A0D_0D0A
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    static let maximumBlock = 16 << 20

    struct Interface {
        var linkType: UInt32
        var snapshotLength: Int
        /// Timestamp units: `10^-exponent` seconds, or `2^-exponent` when `binary`.
        var exponent: Int = 6
        var binary = false
    }

    private let file: ChunkedFile
    private var order = ByteOrder(bigEndian: false)
    private var interfaces: [Interface] = []
    private var lastTimestamp = ReplayTimestamp.zero
    private var failed = false

    init(file: ChunkedFile) throws(ReplayError) {
        self.file = file
        guard try file.ensure(4) else { throw ReplayError(.truncatedFile, at: 0, "pcapng needs a section header block") }
        let magic = ByteOrder(bigEndian: false).u32(file.peek(4), 0)
        guard magic == Self.sectionHeader else {
            throw ReplayError(.unknownFormat, at: 0, "not a pcapng file (first block type \(hex32(magic)))")
        }
    }

    func next() throws(ReplayError) -> CaptureEvent? {
        while !failed, try file.ensure(1) {
            let at = file.offset
            guard try file.ensure(12) else { return stop(.truncatedFile, at, "block header cut short") }
            var head = file.peek(12)
            let rawType = ByteOrder(bigEndian: false).u32(head, 0)
            if rawType == Self.sectionHeader {
                let magic = ByteOrder(bigEndian: false).u32(head, 8)
                switch magic {
                case Self.byteOrderMagic: order = ByteOrder(bigEndian: false)
                case Self.byteOrderMagic.byteSwapped: order = ByteOrder(bigEndian: true)
                default: return stop(.malformedHeader, at + 8, "section header byte-order magic \(hex32(magic))")
                }
                interfaces.removeAll()
            }
            let type = order.u32(head, 0)
            let length = Int(order.u32(head, 4))
            guard length >= 12, length % 4 == 0, length <= Self.maximumBlock else {
                return stop(.malformedHeader, at + 4, "block of type \(hex32(type)) has length \(length)")
            }
            guard try file.ensure(length) else {
                return stop(.truncatedFile, at, "block of \(length) bytes cut short at \(file.available)")
            }
            head = file.peek(length)
            guard Int(order.u32(head, length - 4)) == length else {
                return stop(.malformedHeader, at + Int64(length) - 4, "block's trailing length differs from \(length)")
            }
            let body = UnsafeRawBufferPointer(rebasing: head[8..<(length - 4)])
            let event: CaptureEvent?
            switch type {
            case Self.sectionHeader:
                guard body.count >= 16 else { return stop(.malformedHeader, at, "section header block too short") }
                guard order.u16(body, 4) == 1 else {
                    return stop(.malformedHeader, at + 12, "pcapng major version \(order.u16(body, 4)) (expected 1)")
                }
                event = nil
            case 1: event = interfaceDescription(body, at: at)
            case 6: event = enhancedPacket(body, at: at)
            case 3: event = simplePacket(body, at: at)
            case 2: event = obsoletePacket(body, at: at)
            default: event = nil
            }
            // The packet's bytes stay valid: skipping inside the window only moves its start.
            try file.skip(length)
            if let event { return event }
        }
        return nil
    }

    private func stop(_ kind: ReplayError.Kind, _ at: Int64, _ detail: String) -> CaptureEvent {
        failed = true
        return .problem(ReplayError(kind, at: at, detail + "; reading stops"))
    }

    private func interfaceDescription(_ b: UnsafeRawBufferPointer, at: Int64) -> CaptureEvent? {
        guard b.count >= 8 else { return .problem(ReplayError(.malformedHeader, at: at, "interface block too short")) }
        var interface = Interface(linkType: UInt32(order.u16(b, 0)), snapshotLength: Int(order.u32(b, 4)))
        var i = 8
        while i + 4 <= b.count {
            let code = order.u16(b, i)
            let length = Int(order.u16(b, i + 2))
            if code == 0 { break }
            guard i + 4 + length <= b.count else { break }
            if code == 9, length >= 1 {
                let v = b[i + 4]
                interface.binary = v & 0x80 != 0
                interface.exponent = Int(v & 0x7F)
            }
            i += 4 + (length + 3) & ~3
        }
        // Beyond 10^-19 or 2^-63 ticks no 64-bit timestamp means anything: keep the default and say so.
        if (interface.binary && interface.exponent > 63) || (!interface.binary && interface.exponent > 19) {
            interfaces.append(Interface(linkType: interface.linkType, snapshotLength: interface.snapshotLength))
            return .problem(ReplayError(.malformedHeader, at: at, "if_tsresol exponent \(interface.exponent) ignored"))
        }
        interfaces.append(interface)
        return nil
    }

    private func enhancedPacket(_ b: UnsafeRawBufferPointer, at: Int64) -> CaptureEvent? {
        guard b.count >= 20 else { return .problem(ReplayError(.malformedHeader, at: at, "enhanced packet block too short")) }
        let id = Int(order.u32(b, 0))
        let ticks = UInt64(order.u32(b, 4)) << 32 | UInt64(order.u32(b, 8))
        let captured = Int(order.u32(b, 12))
        let original = Int(order.u32(b, 16))
        var event = packet(b, dataAt: 20, captured: captured, original: original, interface: id, ticks: ticks, at: at)
        if case .packet(var p) = event, let inbound = inboundFlag(b, optionsAt: 20 + (captured + 3) & ~3) {
            p.inbound = inbound
            event = .packet(p)
        }
        return event
    }

    /// The direction bits of an `epb_flags` option (code 2): 01 inbound, 10 outbound; `nil` when absent or unsaid.
    private func inboundFlag(_ b: UnsafeRawBufferPointer, optionsAt start: Int) -> Bool? {
        var i = start
        while i + 4 <= b.count {
            let code = order.u16(b, i)
            let length = Int(order.u16(b, i + 2))
            if code == 0 { return nil }
            guard i + 4 + length <= b.count else { return nil }
            if code == 2, length == 4 {
                switch order.u32(b, i + 4) & 0x3 {
                case 1: return true
                case 2: return false
                default: return nil
                }
            }
            i += 4 + (length + 3) & ~3
        }
        return nil
    }

    private func obsoletePacket(_ b: UnsafeRawBufferPointer, at: Int64) -> CaptureEvent? {
        guard b.count >= 20 else { return .problem(ReplayError(.malformedHeader, at: at, "packet block too short")) }
        let id = Int(order.u16(b, 0))
        let ticks = UInt64(order.u32(b, 4)) << 32 | UInt64(order.u32(b, 8))
        let captured = Int(order.u32(b, 12))
        let original = Int(order.u32(b, 16))
        return packet(b, dataAt: 20, captured: captured, original: original, interface: id, ticks: ticks, at: at)
    }

    /// A simple packet block has no timestamp (the previous packet's is used) and belongs to interface 0; its captured
    /// length is the original length cut to the snapshot length and the block.
    private func simplePacket(_ b: UnsafeRawBufferPointer, at: Int64) -> CaptureEvent? {
        guard b.count >= 4 else { return .problem(ReplayError(.malformedHeader, at: at, "simple packet block too short")) }
        guard let interface = interfaces.first else {
            return .problem(ReplayError(.malformedHeader, at: at, "simple packet block before any interface"))
        }
        let original = Int(order.u32(b, 0))
        var captured = min(original, b.count - 4)
        if interface.snapshotLength > 0 { captured = min(captured, interface.snapshotLength) }
        let bytes = UnsafeRawBufferPointer(rebasing: b[4..<(4 + captured)])
        return .packet(CapturedPacket(
            timestamp: lastTimestamp, linkType: interface.linkType, bytes: bytes, originalLength: original, fileOffset: at))
    }

    private func packet(
        _ b: UnsafeRawBufferPointer, dataAt: Int, captured: Int, original: Int, interface id: Int, ticks: UInt64,
        at: Int64
    ) -> CaptureEvent {
        guard id < interfaces.count else {
            return .problem(ReplayError(.malformedHeader, at: at, "packet on interface \(id), \(interfaces.count) described"))
        }
        guard captured <= b.count - dataAt else {
            return .problem(ReplayError(
                .oversizedRecord, at: at, "packet claims \(captured) captured bytes in a block of \(b.count - dataAt)"))
        }
        let interface = interfaces[id]
        lastTimestamp = Self.timestamp(ticks, interface)
        let bytes = UnsafeRawBufferPointer(rebasing: b[dataAt..<(dataAt + captured)])
        return .packet(CapturedPacket(
            timestamp: lastTimestamp, linkType: interface.linkType, bytes: bytes, originalLength: original, fileOffset: at))
    }

    /// Ticks of `10^-e` or `2^-e` seconds → seconds and nanoseconds.
    static func timestamp(_ ticks: UInt64, _ interface: Interface) -> ReplayTimestamp {
        let e = interface.exponent
        if interface.binary {
            let seconds = e == 0 ? ticks : ticks >> UInt64(e)
            let fraction = e == 0 ? 0 : ticks & ((1 << UInt64(e)) - 1)
            let product = fraction.multipliedFullWidth(by: 1_000_000_000)
            // (fraction · 10^9) >> e, over the 128-bit product.
            let nanos: UInt64 = e == 0 ? 0 : (product.low >> UInt64(e)) | (e == 64 ? 0 : product.high << UInt64(64 - e))
            return ReplayTimestamp(seconds: Int64(truncatingIfNeeded: seconds), nanoseconds: UInt32(truncatingIfNeeded: nanos))
        }
        var unit: UInt64 = 1
        for _ in 0..<e { unit *= 10 }
        let seconds = ticks / unit
        let fraction = ticks % unit
        var nanos = fraction
        if e <= 9 {
            for _ in e..<9 { nanos *= 10 }
        } else {
            for _ in 9..<e { nanos /= 10 }
        }
        return ReplayTimestamp(seconds: Int64(truncatingIfNeeded: seconds), nanoseconds: UInt32(truncatingIfNeeded: nanos))
    }
}
