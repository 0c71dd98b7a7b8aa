/// Writes pcapng into a byte array: one section header, interface description blocks, enhanced and simple packet
/// blocks. Enough for the bridge to record its CTI link (issue 5 item 3) and for the tests to build captures; the caller
/// writes the bytes out (and rotates files).
public struct PcapngWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    public let bigEndian: Bool
    private var interfaces: [(linkType: UInt16, nanoseconds: Bool)] = []

    /// Starts a section (`bigEndian`: write every field big-endian, as a big-endian host would).
    public init(bigEndian: Bool = false) {
        self.bigEndian = bigEndian
        var body: [UInt8] = []
        put32(0x1A2B_3C4D, &body)
        put16(1, &body)
        put16(0, &body)
        put32(0xFFFF_FFFF, &body) // section length unknown (-1)
        put32(0xFFFF_FFFF, &body)
        block(0x0A0D_0D0A, body)
    }

    /// Describes an interface; returns its id. `nanoseconds`: `if_tsresol` 9 (else the default, microseconds).
    @discardableResult
    public mutating func addInterface(linkType: UInt16, snapshotLength: UInt32 = 262_144, nanoseconds: Bool = false) -> Int {
        var body: [UInt8] = []
        put16(linkType, &body)
        put16(0, &body)
        put32(snapshotLength, &body)
        if nanoseconds {
            put16(9, &body)
            put16(1, &body)
            body.append(contentsOf: [9, 0, 0, 0])
            put32(0, &body) // opt_endofopt
        }
        block(1, body)
        interfaces.append((linkType, nanoseconds))
        return interfaces.count - 1
    }

    /// An enhanced packet block on `interface`, stamped with `timestamp` in the interface's resolution; `inbound`
    /// (received by the capturing host) or outbound goes into its `epb_flags` when given.
    public mutating func addPacket(
        _ packet: some Collection<UInt8>, interface: Int, timestamp: ReplayTimestamp, originalLength: Int? = nil,
        inbound: Bool? = nil
    ) {
        precondition(interface < interfaces.count, "PcapngWriter: interface \(interface) was not added")
        let ticks = interfaces[interface].nanoseconds
            ? UInt64(timestamp.seconds) * 1_000_000_000 + UInt64(timestamp.nanoseconds)
            : UInt64(timestamp.seconds) * 1_000_000 + UInt64(timestamp.nanoseconds / 1000)
        var body: [UInt8] = []
        body.reserveCapacity(packet.count + 24)
        put32(UInt32(interface), &body)
        put32(UInt32(truncatingIfNeeded: ticks >> 32), &body)
        put32(UInt32(truncatingIfNeeded: ticks), &body)
        put32(UInt32(packet.count), &body)
        put32(UInt32(originalLength ?? packet.count), &body)
        body.append(contentsOf: packet)
        if let inbound {
            body.append(contentsOf: repeatElement(0, count: (4 - packet.count % 4) % 4))
            put16(2, &body)  // epb_flags
            put16(4, &body)
            put32(inbound ? 1 : 2, &body)  // bits 0–1: 01 inbound, 10 outbound
            put32(0, &body)  // opt_endofopt
        }
        block(6, body)
    }

    /// A simple packet block (interface 0, no timestamp).
    public mutating func addSimplePacket(_ packet: some Collection<UInt8>) {
        var body: [UInt8] = []
        put32(UInt32(packet.count), &body)
        body.append(contentsOf: packet)
        block(3, body)
    }

    /// Hands over what was written and keeps the section open (for writing a file in pieces).
    public mutating func take() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    private mutating func block(_ type: UInt32, _ body: [UInt8]) {
        let padded = (body.count + 3) & ~3
        let total = UInt32(12 + padded)
        put32(type, &bytes)
        put32(total, &bytes)
        bytes.append(contentsOf: body)
        bytes.append(contentsOf: repeatElement(0, count: padded - body.count))
        put32(total, &bytes)
    }

    private func put16(_ v: UInt16, _ out: inout [UInt8]) {
        let w = bigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: w) { out.append(contentsOf: $0) }
    }

    private func put32(_ v: UInt32, _ out: inout [UInt8]) {
        let w = bigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: w) { out.append(contentsOf: $0) }
    }
}

/// Writes classic pcap into a byte array (microsecond or nanosecond magic, either byte order).
public struct PcapWriter: Sendable {
    public private(set) var bytes: [UInt8] = []
    public let bigEndian: Bool
    public let nanoseconds: Bool

    public init(linkType: UInt32, snapshotLength: UInt32 = 262_144, nanoseconds: Bool = false, bigEndian: Bool = false) {
        self.bigEndian = bigEndian
        self.nanoseconds = nanoseconds
        put32(nanoseconds ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        put16(2)
        put16(4)
        put32(0)
        put32(0)
        put32(snapshotLength)
        put32(linkType)
    }

    /// One record; `originalLength` larger than the packet marks it cut by the snapshot length.
    public mutating func addPacket(_ packet: some Collection<UInt8>, timestamp: ReplayTimestamp, originalLength: Int? = nil) {
        put32(UInt32(truncatingIfNeeded: timestamp.seconds))
        put32(nanoseconds ? timestamp.nanoseconds : timestamp.nanoseconds / 1000)
        put32(UInt32(packet.count))
        put32(UInt32(originalLength ?? packet.count))
        bytes.append(contentsOf: packet)
    }

    /// Hands over what was written (for writing a file in pieces).
    public mutating func take() -> [UInt8] {
        defer { bytes = [] }
        return bytes
    }

    private mutating func put16(_ v: UInt16) {
        let w = bigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: w) { bytes.append(contentsOf: $0) }
    }

    private mutating func put32(_ v: UInt32) {
        let w = bigEndian ? v.bigEndian : v.littleEndian
        withUnsafeBytes(of: w) { bytes.append(contentsOf: $0) }
    }
}
