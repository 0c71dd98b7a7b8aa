/// A TCP segment found in a packet; `payload` is a view into the packet.
struct TCPSegment {
    var source: ReplayEndpoint
    var destination: ReplayEndpoint
    var seq: UInt32
    var flags: UInt8
    var payload: UnsafeRawBufferPointer
    /// The IP header says more payload than the capture holds (snapshot length): the rest is missing.
    var payloadCut: Bool
    /// The capture says the capturing host received it (pcapng `epb_flags`); `nil`: not said.
    var inbound: Bool? = nil

    static let fin: UInt8 = 0x01
    static let syn: UInt8 = 0x02
    static let rst: UInt8 = 0x04
    static let ack: UInt8 = 0x10

    var isSYN: Bool { flags & Self.syn != 0 }
    var isSYNACK: Bool { flags & (Self.syn | Self.ack) == Self.syn | Self.ack }
}

/// Link layer → IPv4/IPv6 → TCP, by hand over the captured bytes. No allocation.
enum PacketDecoder {
    enum Outcome {
        case segment(TCPSegment)
        /// Not TCP over IP (ARP, UDP, ICMP, another ethertype): counted and skipped.
        case notTCP
        /// One fragment of a TCP datagram: held by ``IPFragmentReassembler`` until the datagram is whole.
        case fragment(IPFragment)
        case malformed(ReplayError.Kind, String)
    }

    static func isSupported(linkType: UInt32) -> Bool {
        [0, 1, 101, 108, 113, 228, 229, 276].contains(linkType)
    }

    static func decode(_ b: UnsafeRawBufferPointer, linkType: UInt32) -> Outcome {
        switch linkType {
        case 1: // Ethernet II, with 802.1Q / 802.1ad tags
            guard b.count >= 14 else { return .malformed(.malformedPacket, "Ethernet header cut short") }
            var type = be16(b, 12)
            var i = 14
            while type == 0x8100 || type == 0x88A8 || type == 0x9100 {
                guard b.count >= i + 4 else { return .malformed(.malformedPacket, "VLAN tag cut short") }
                type = be16(b, i + 2)
                i += 4
            }
            return network(b, at: i, etherType: type)
        case 113: // Linux cooked v1: 16-byte header, protocol last
            guard b.count >= 16 else { return .malformed(.malformedPacket, "SLL header cut short") }
            return network(b, at: 16, etherType: be16(b, 14))
        case 276: // Linux cooked v2: 20-byte header, protocol first
            guard b.count >= 20 else { return .malformed(.malformedPacket, "SLL2 header cut short") }
            return network(b, at: 20, etherType: be16(b, 0))
        case 101, 228, 229: // raw IP (version from the first nibble)
            guard b.count >= 1 else { return .malformed(.malformedPacket, "empty raw IP packet") }
            return ip(b, at: 0)
        case 0, 108: // BSD loopback: a 4-byte address family in the capturing host's order (null) or big-endian (loop)
            guard b.count >= 4 else { return .malformed(.malformedPacket, "loopback header cut short") }
            let little = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
            let family = little < 0x100 ? little : little.byteSwapped
            switch family {
            case 2: return ipv4(b, at: 4)
            case 10, 23, 24, 28, 30: return ipv6(b, at: 4)
            default: return .notTCP
            }
        default:
            return .malformed(.unsupportedLinkType, "link type \(linkType)")
        }
    }

    static func network(_ b: UnsafeRawBufferPointer, at i: Int, etherType: UInt16) -> Outcome {
        switch etherType {
        case 0x0800: ipv4(b, at: i)
        case 0x86DD: ipv6(b, at: i)
        default: .notTCP
        }
    }

    static func ip(_ b: UnsafeRawBufferPointer, at i: Int) -> Outcome {
        switch b[i] >> 4 {
        case 4: ipv4(b, at: i)
        case 6: ipv6(b, at: i)
        default: .malformed(.malformedPacket, "IP version \(b[i] >> 4)")
        }
    }

    static func ipv4(_ b: UnsafeRawBufferPointer, at i: Int) -> Outcome {
        guard b.count >= i + 20 else { return .malformed(.malformedPacket, "IPv4 header cut short") }
        guard b[i] >> 4 == 4 else { return .malformed(.malformedPacket, "IPv4 version \(b[i] >> 4)") }
        let headerLength = Int(b[i] & 0x0F) * 4
        let total = Int(be16(b, i + 2))
        guard headerLength >= 20, total >= headerLength else {
            return .malformed(.malformedPacket, "IPv4 header length \(headerLength), total length \(total)")
        }
        guard b.count >= i + headerLength else { return .malformed(.malformedPacket, "IPv4 options cut short") }
        let source = ReplayEndpoint(high: 0, low: UInt64(be32(b, i + 12)), isIPv6: false, port: 0)
        let destination = ReplayEndpoint(high: 0, low: UInt64(be32(b, i + 16)), isIPv6: false, port: 0)
        let fragment = be16(b, i + 6)
        if fragment & 0x3FFF != 0 { // more-fragments flag or a fragment offset
            // Only TCP is reassembled: other protocols' fragments are skipped like the protocols themselves.
            guard b[i + 9] == 6 else { return .notTCP }
            let start = i + headerLength
            let end = i + total
            return .fragment(IPFragment(
                key: .init(source: source, destination: destination, proto: 6, id: UInt32(be16(b, i + 4))),
                offset: Int(fragment & 0x1FFF) * 8, more: fragment & 0x2000 != 0, length: end - start,
                payload: UnsafeRawBufferPointer(rebasing: b[min(start, b.count)..<min(end, b.count)])))
        }
        guard b[i + 9] == 6 else { return .notTCP }
        // Ethernet pads short frames: the IP total length, not the frame, says where the datagram ends.
        return tcp(b, at: i + headerLength, end: i + total, source: source, destination: destination)
    }

    static func ipv6(_ b: UnsafeRawBufferPointer, at i: Int) -> Outcome {
        guard b.count >= i + 40 else { return .malformed(.malformedPacket, "IPv6 header cut short") }
        guard b[i] >> 4 == 6 else { return .malformed(.malformedPacket, "IPv6 version \(b[i] >> 4)") }
        let source = ReplayEndpoint(high: be64(b, i + 8), low: be64(b, i + 16), isIPv6: true, port: 0)
        let destination = ReplayEndpoint(high: be64(b, i + 24), low: be64(b, i + 32), isIPv6: true, port: 0)
        return ipv6Headers(
            b, at: i + 40, end: i + 40 + Int(be16(b, i + 4)), next: b[i + 6], source: source, destination: destination,
            fragmentAllowed: true)
    }

    /// An IPv6 header chain from `p` (next header `next`) to TCP. Extension headers: hop-by-hop 0, routing 43,
    /// destination options 60, AH 51, mobility 135 skipped; fragment 44 → ``Outcome/fragment`` (not inside a datagram
    /// already reassembled: `fragmentAllowed` false).
    static func ipv6Headers(
        _ b: UnsafeRawBufferPointer, at start: Int, end: Int, next first: UInt8, source: ReplayEndpoint,
        destination: ReplayEndpoint, fragmentAllowed: Bool
    ) -> Outcome {
        var next = first
        var p = start
        while true {
            switch next {
            case 6:
                return tcp(b, at: p, end: end, source: source, destination: destination)
            case 44:
                guard fragmentAllowed else { return .malformed(.malformedPacket, "a fragment header inside a fragment") }
                guard b.count >= p + 8, end >= p + 8 else {
                    return .malformed(.malformedPacket, "IPv6 fragment header cut short")
                }
                let field = be16(b, p + 2)
                let (offset, more) = (Int(field & 0xFFF8), field & 1 != 0)
                if offset == 0 && !more { // an atomic fragment (RFC 6946): a whole datagram
                    next = b[p]
                    p += 8
                    continue
                }
                // What follows is the fragmentable part; only a chain that can lead to TCP is worth holding (every
                // fragment carries the same next header, so other protocols' fragments are skipped, not held).
                guard [6, 0, 43, 60, 135, 51].contains(b[p]) else { return .notTCP }
                return .fragment(IPFragment(
                    key: .init(source: source, destination: destination, proto: b[p], id: be32(b, p + 4)),
                    offset: offset, more: more, length: end - (p + 8),
                    payload: UnsafeRawBufferPointer(rebasing: b[(p + 8)..<min(end, b.count)])))
            case 0, 43, 60, 135, 51:
                guard b.count >= p + 2 else { return .malformed(.malformedPacket, "IPv6 extension header cut short") }
                let length = next == 51 ? (Int(b[p + 1]) + 2) * 4 : (Int(b[p + 1]) + 1) * 8
                next = b[p]
                p += length
            default:
                return .notTCP
            }
        }
    }

    /// A reassembled datagram's payload (the bytes after the IPv4 header, or the IPv6 fragmentable part) → TCP.
    static func reassembled(_ b: UnsafeRawBufferPointer, key: IPFragment.Key) -> Outcome {
        if key.source.isIPv6 {
            return ipv6Headers(
                b, at: 0, end: b.count, next: key.proto, source: key.source, destination: key.destination,
                fragmentAllowed: false)
        }
        guard key.proto == 6 else { return .notTCP }
        return tcp(b, at: 0, end: b.count, source: key.source, destination: key.destination)
    }

    static func tcp(
        _ b: UnsafeRawBufferPointer, at i: Int, end: Int, source: ReplayEndpoint, destination: ReplayEndpoint
    ) -> Outcome {
        guard b.count >= i + 20, end >= i + 20 else { return .malformed(.malformedPacket, "TCP header cut short") }
        let headerLength = Int(b[i + 12] >> 4) * 4
        guard headerLength >= 20, end >= i + headerLength else {
            return .malformed(.malformedPacket, "TCP header length \(headerLength)")
        }
        guard b.count >= i + headerLength else { return .malformed(.malformedPacket, "TCP options cut short") }
        var s = source
        var d = destination
        s.port = be16(b, i)
        d.port = be16(b, i + 2)
        let dataEnd = min(end, b.count)
        let payload = UnsafeRawBufferPointer(rebasing: b[(i + headerLength)..<dataEnd])
        return .segment(TCPSegment(
            source: s, destination: d, seq: be32(b, i + 4), flags: b[i + 13], payload: payload, payloadCut: end > b.count))
    }

    @inline(__always) static func be16(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt16 {
        UInt16(b[i]) << 8 | UInt16(b[i + 1])
    }

    @inline(__always) static func be32(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt32 {
        UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
    }

    @inline(__always) static func be64(_ b: UnsafeRawBufferPointer, _ i: Int) -> UInt64 {
        UInt64(be32(b, i)) << 32 | UInt64(be32(b, i + 4))
    }
}
