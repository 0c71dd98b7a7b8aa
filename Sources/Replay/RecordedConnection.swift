import CSTALink
import NIOCore

/// One tapped link connection as synthesized TCP: Ethernet + IPv4/IPv6 + TCP packets between the real endpoints, with
/// sequence numbers that follow each direction's stream offsets, so a byte's sequence number never depends on what was
/// written (or dropped) before it.
struct RecordedConnection {
    struct Endpoint {
        var mac: [UInt8]
        var address: [UInt8] // 4 or 16 bytes, network order
        var port: UInt16
    }

    /// Which side a packet comes from.
    enum Side { case application, switchSide }

    static let ethernetLinkType: UInt16 = 1
    private static let flagFIN: UInt8 = 0x01, flagSYN: UInt8 = 0x02, flagPSH: UInt8 = 0x08, flagACK: UInt8 = 0x10

    let application: Endpoint
    let switchSide: Endpoint
    let ipv6: Bool
    /// The switch opened the TCP connection (the link listens).
    let switchDialled: Bool
    /// The sequence number of stream offset 0, per direction (the SYN's is one less).
    private let applicationBase: UInt32
    private let switchBase: UInt32
    /// The next stream offset expected per direction: what the file holds up to.
    private(set) var applicationOffset: Int64 = 0
    private(set) var switchOffset: Int64 = 0
    private var ipIdentification: UInt16 = 0

    /// The largest TCP payload per packet: the IP packet (IPv4 header, or IPv6 header counted too) stays ≤ 65,535.
    var maximumSegment: Int { ipv6 ? 65_535 - 40 - 20 : 65_535 - 20 - 20 }

    /// `nil` for an address that is not IPv4 or IPv6, or a pair of mixed families.
    init?(_ connection: LinkTapConnection, applicationISN: UInt32, switchISN: UInt32) {
        guard let local = Self.endpoint(connection.local, mac: [0x02, 0, 0, 0, 0, 0x01]),
            let remote = Self.endpoint(connection.remote, mac: [0x02, 0, 0, 0, 0, 0x02]),
            local.address.count == remote.address.count
        else { return nil }
        application = local
        switchSide = remote
        ipv6 = local.address.count == 16
        switchDialled = connection.role == .server
        applicationBase = applicationISN &+ 1
        switchBase = switchISN &+ 1
    }

    private var applicationNext: UInt32 { applicationBase &+ UInt32(truncatingIfNeeded: applicationOffset) }
    private var switchNext: UInt32 { switchBase &+ UInt32(truncatingIfNeeded: switchOffset) }

    /// SYN, SYN-ACK, ACK from whoever dialled, leading to the current sequence numbers. Written when the connection
    /// opens and again at the start of every rotated file, so each file tells the reader where each stream resumes and
    /// which side is the switch (the SYN-ACK's sender, when the link dialled).
    mutating func handshake(at time: ReplayTimestamp, into writer: inout PcapngWriter) {
        let (a, s) = (applicationNext, switchNext)
        if switchDialled {
            add(.switchSide, seq: s &- 1, ack: 0, flags: Self.flagSYN, time, &writer)
            add(.application, seq: a &- 1, ack: s, flags: Self.flagSYN | Self.flagACK, time, &writer)
            add(.switchSide, seq: s, ack: a, flags: Self.flagACK, time, &writer)
        } else {
            add(.application, seq: a &- 1, ack: 0, flags: Self.flagSYN, time, &writer)
            add(.switchSide, seq: s &- 1, ack: a, flags: Self.flagSYN | Self.flagACK, time, &writer)
            add(.application, seq: a, ack: s, flags: Self.flagACK, time, &writer)
        }
    }

    /// The bytes at `streamOffset` of one direction, in segments of at most ``maximumSegment``. Returns how many bytes
    /// before them never reached the recorder (dropped while the disk was behind): the file shows that hole as a gap.
    mutating func data(
        _ bytes: ByteBuffer, from side: Side, streamOffset: Int64, at time: ReplayTimestamp,
        into writer: inout PcapngWriter
    ) -> Int64 {
        let expected = side == .application ? applicationOffset : switchOffset
        let missing = max(0, streamOffset - expected)
        let offset = max(streamOffset, expected)
        let skip = Int(offset - streamOffset) // never positive in practice: a tap reports each byte once
        let base = side == .application ? applicationBase : switchBase
        bytes.withUnsafeReadableBytes { raw in
            var start = min(skip, raw.count)
            while start < raw.count {
                let end = min(start + maximumSegment, raw.count)
                let seq = base &+ UInt32(truncatingIfNeeded: offset + Int64(start - skip))
                let ack = side == .application ? switchNext : applicationNext
                add(side, seq: seq, ack: ack, flags: Self.flagPSH | Self.flagACK, payload: raw[start..<end], time, &writer)
                start = end
            }
        }
        let newOffset = max(expected, streamOffset + Int64(bytes.readableBytes))
        if side == .application { applicationOffset = newOffset } else { switchOffset = newOffset }
        return missing
    }

    /// FIN from the application, FIN from the switch, the last ACK. With the streams' lengths (the link's count), the
    /// FINs sit at their true ends, so bytes dropped after the last chunk written show as a gap; returns how many.
    @discardableResult
    mutating func close(
        applicationLength: Int64? = nil, switchLength: Int64? = nil, at time: ReplayTimestamp,
        into writer: inout PcapngWriter
    ) -> Int64 {
        let missing = max(0, (applicationLength ?? applicationOffset) - applicationOffset)
            + max(0, (switchLength ?? switchOffset) - switchOffset)
        applicationOffset = max(applicationOffset, applicationLength ?? 0)
        switchOffset = max(switchOffset, switchLength ?? 0)
        let (a, s) = (applicationNext, switchNext)
        add(.application, seq: a, ack: s, flags: Self.flagFIN | Self.flagACK, time, &writer)
        add(.switchSide, seq: s, ack: a &+ 1, flags: Self.flagFIN | Self.flagACK, time, &writer)
        add(.application, seq: a &+ 1, ack: s &+ 1, flags: Self.flagACK, time, &writer)
        return missing
    }

    // MARK: Packets

    private mutating func add(
        _ side: Side, seq: UInt32, ack: UInt32, flags: UInt8, payload: UnsafeRawBufferPointer.SubSequence? = nil,
        _ time: ReplayTimestamp, _ writer: inout PcapngWriter
    ) {
        let (from, to) = side == .application ? (application, switchSide) : (switchSide, application)
        let payloadCount = payload?.count ?? 0
        var tcp: [UInt8] = []
        tcp.reserveCapacity(20 + payloadCount)
        be16(from.port, &tcp)
        be16(to.port, &tcp)
        be32(seq, &tcp)
        be32(ack, &tcp)
        tcp += [5 << 4, flags]
        be16(65_535, &tcp) // window
        tcp += [0, 0, 0, 0] // checksum (below), urgent pointer
        if let payload { tcp.append(contentsOf: payload) }
        let checksum = Self.tcpChecksum(tcp, source: from.address, destination: to.address)
        tcp[16] = UInt8(checksum >> 8)
        tcp[17] = UInt8(checksum & 0xFF)

        var packet: [UInt8] = []
        packet.reserveCapacity(14 + 40 + tcp.count)
        packet += to.mac + from.mac
        be16(ipv6 ? 0x86DD : 0x0800, &packet)
        if ipv6 {
            packet += [0x60, 0, 0, 0]
            be16(UInt16(tcp.count), &packet)
            packet += [6, 64] // next header TCP, hop limit
            packet += from.address + to.address
        } else {
            ipIdentification &+= 1
            let header = packet.count
            packet += [0x45, 0]
            be16(UInt16(20 + tcp.count), &packet)
            be16(ipIdentification, &packet)
            packet += [0x40, 0, 64, 6, 0, 0] // don't fragment; TTL 64; TCP; checksum (below)
            packet += from.address + to.address
            let sum = Self.fold(Self.sum(packet[header..<(header + 20)]))
            packet[header + 10] = UInt8(sum >> 8)
            packet[header + 11] = UInt8(sum & 0xFF)
        }
        packet += tcp
        // The recorder runs on the application's host: what the switch sent is inbound.
        writer.addPacket(packet, interface: 0, timestamp: time, inbound: side == .switchSide)
    }

    /// The one's-complement checksum over the pseudo-header and the segment.
    static func tcpChecksum(_ segment: [UInt8], source: [UInt8], destination: [UInt8]) -> UInt16 {
        var total = sum(source[...]) + sum(destination[...]) + 6 + UInt64(segment.count)
        total += sum(segment[...])
        return fold(total)
    }

    /// 16-bit big-endian words added up (an odd last byte padded with zero).
    static func sum(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var total: UInt64 = 0
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            total += UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.endIndex { total += UInt64(bytes[i]) << 8 }
        return total
    }

    static func fold(_ sum: UInt64) -> UInt16 {
        var s = sum
        while s >> 16 != 0 { s = (s & 0xFFFF) + (s >> 16) }
        return ~UInt16(s)
    }

    /// The address bytes and port of an IPv4 or IPv6 socket address (`sockaddr_in`: address at byte 4;
    /// `sockaddr_in6`: at byte 8; the port at byte 2 in both, network order).
    static func endpoint(_ address: SocketAddress, mac: [UInt8]) -> Endpoint? {
        let length: Int, at: Int
        switch address {
        case .v4: (length, at) = (4, 4)
        case .v6: (length, at) = (16, 8)
        case .unixDomainSocket: return nil
        }
        return address.withSockAddr { pointer, size -> Endpoint? in
            guard size >= at + length else { return nil }
            let raw = UnsafeRawBufferPointer(start: UnsafeRawPointer(pointer), count: size)
            let port = UInt16(raw[2]) << 8 | UInt16(raw[3])
            return Endpoint(mac: mac, address: Array(raw[at..<(at + length)]), port: port)
        }
    }

    private func be16(_ v: UInt16, _ out: inout [UInt8]) { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
    private func be32(_ v: UInt32, _ out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
    }
}
