/// Cuts an IP packet (as `PacketBuilder` makes it, link `.raw`) into IP fragments, the way a sending host does.
enum Fragmenter {
    /// The fragments of `ip`, each carrying at most `size` bytes of the datagram's payload (rounded down to 8), in
    /// order. IPv4: the header (with its options) copied, MF on all but the last, the offset in 8-byte units. IPv6: the
    /// unfragmentable part (the header and a hop-by-hop header) copied, then a fragment header.
    static func fragments(_ ip: [UInt8], size: Int, id: UInt32) -> [[UInt8]] {
        let step = max(8, size / 8 * 8)
        if ip[0] >> 4 == 4 {
            let header = Int(ip[0] & 0x0F) * 4
            let payload = Array(ip[header...])
            return stride(from: 0, to: payload.count, by: step).map { start in
                let chunk = payload[start..<min(start + step, payload.count)]
                var f = Array(ip[0..<header])
                let total = header + chunk.count
                f[2] = UInt8(total >> 8)
                f[3] = UInt8(total & 0xFF)
                f[4] = UInt8(id >> 8 & 0xFF)
                f[5] = UInt8(id & 0xFF)
                let more: UInt16 = start + chunk.count < payload.count ? 0x2000 : 0
                let field = more | UInt16(start / 8)
                f[6] = UInt8(field >> 8)
                f[7] = UInt8(field & 0xFF)
                return f + chunk
            }
        }
        // IPv6: a hop-by-hop header (next header 0) stays in front, unfragmented.
        let unfragmentable = ip[6] == 0 ? 48 : 40
        let nextIndex = ip[6] == 0 ? 40 : 6
        let upper = ip[nextIndex]
        let payload = Array(ip[unfragmentable...])
        return stride(from: 0, to: payload.count, by: step).map { start in
            let chunk = payload[start..<min(start + step, payload.count)]
            var f = Array(ip[0..<unfragmentable])
            f[nextIndex] = 44
            let length = unfragmentable - 40 + 8 + chunk.count
            f[4] = UInt8(length >> 8)
            f[5] = UInt8(length & 0xFF)
            let more: UInt16 = start + chunk.count < payload.count ? 1 : 0
            let field = UInt16(start) | more
            f += [upper, 0, UInt8(field >> 8), UInt8(field & 0xFF)]
            f += [UInt8(id >> 24), UInt8(id >> 16 & 0xFF), UInt8(id >> 8 & 0xFF), UInt8(id & 0xFF)]
            return f + chunk
        }
    }

    /// An IP packet in an Ethernet frame, padded to 60 bytes as Ethernet does (the IP length must win).
    static func ethernet(_ ip: [UInt8]) -> [UInt8] {
        let v6 = ip[0] >> 4 == 6
        var frame: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, v6 ? 0x86 : 0x08, v6 ? 0xDD : 0x00]
        frame += ip
        while frame.count < 60 { frame.append(0) }
        return frame
    }
}
