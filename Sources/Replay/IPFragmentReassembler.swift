/// One IPv4 fragment, or one IPv6 fragment (fragment extension header), of a TCP datagram; `payload` is a view into
/// the packet.
struct IPFragment {
    /// What identifies a datagram: addresses, protocol (IPv6: the fragment header's next header) and identification.
    struct Key: Hashable {
        var source: ReplayEndpoint
        var destination: ReplayEndpoint
        var proto: UInt8
        var id: UInt32
    }

    var key: Key
    /// Where the fragment's data goes in the datagram's payload, in bytes.
    var offset: Int
    /// More fragments follow (IPv4 MF, IPv6 M): not the last one.
    var more: Bool
    /// The data length the IP header declares (the capture may hold fewer bytes: `payload.count`).
    var length: Int
    var payload: UnsafeRawBufferPointer
}

/// Reassembles IP fragments into datagrams, in any arrival order, with bounded memory.
///
/// - Datagrams are keyed by (source, destination, protocol, identification).
/// - Overlaps: the bytes that arrived first win. Identical overlapping bytes (a retransmitted fragment) are silent;
///   bytes that differ are a `.unsupportedFragment` error (the earlier bytes are kept). A fragment that disagrees on
///   the datagram's end (a second last fragment, data past the last one) is reported and ignored.
/// - Bounds: at most `limits.datagrams` datagrams and `limits.bytes` bytes wait at once; past that the oldest datagram
///   is dropped. A datagram whose first fragment is older than `limits.maximumAge` seconds (capture time) is dropped
///   when a later fragment arrives, and what still waits at the end of the input is dropped then. Each dropped
///   datagram is one `.unsupportedFragment` error at its first fragment's file offset and counts in
///   `incompleteDatagrams`; the TCP reassembler then sees a hole, reported as a gap when data after it arrives.
struct IPFragmentReassembler {
    struct Limits {
        var datagrams = 256
        var bytes = 4 << 20
        /// Seconds, as IP stacks time out reassembly (Linux 30 s, RFC 8200 60 s).
        var maximumAge: Int64 = 60
    }

    /// An IP datagram's payload is at most 65,535 bytes.
    static let maximumDatagram = 65_535

    private struct Pending {
        var key: IPFragment.Key
        var data: [UInt8] = []
        /// Filled byte ranges of `data`, sorted and merged.
        var filled: [Range<Int>] = []
        /// The payload length, once the last fragment has arrived.
        var total: Int?
        var cut = false
        var firstFileOffset: Int64
        var firstTime: ReplayTimestamp

        var isComplete: Bool { total.map { filled == [0..<$0] } ?? false }
    }

    let limits: Limits
    private var pending: [Pending] = [] // oldest first
    private var pendingBytes = 0

    init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// Takes one fragment; returns the datagram's payload when this fragment completes it. Problems and dropped
    /// datagrams are appended to `out`.
    mutating func add(
        _ fragment: IPFragment, timestamp: ReplayTimestamp, fileOffset: Int64, counters: inout ReplayCounters,
        out: inout [ReplayItem]
    ) -> [UInt8]? {
        /// Reports a fragment that cannot be used; returns `nil` for `return problem(…)`.
        func problem(_ detail: String) -> [UInt8]? {
            out.append(.error(ReplayError(.unsupportedFragment, at: fileOffset, detail)))
            return nil
        }
        expire(before: timestamp, counters: &counters, out: &out)
        let end = fragment.offset + fragment.length
        guard end <= Self.maximumDatagram else {
            return problem("IP fragment ends at byte \(end), past the largest datagram (65,535)")
        }
        guard !fragment.more || fragment.length % 8 == 0 else {
            return problem("IP fragment of \(fragment.length) bytes (not a multiple of 8) with more to follow")
        }
        let index: Int
        if let found = pending.lastIndex(where: { $0.key == fragment.key }) {
            index = found
        } else {
            pending.append(Pending(key: fragment.key, firstFileOffset: fileOffset, firstTime: timestamp))
            index = pending.count - 1
        }
        // The datagram's end: set by the last fragment, and nothing may lie beyond it.
        let highest = pending[index].filled.last?.upperBound ?? 0
        if !fragment.more {
            if let total = pending[index].total, total != end {
                return problem("a second last fragment: the datagram ends at \(total), this one says \(end)")
            }
            guard highest <= end else {
                return problem("last fragment ends at \(end) but bytes up to \(highest) have arrived")
            }
            pending[index].total = end
        } else if let total = pending[index].total, end > total {
            return problem("IP fragment ends at \(end), past the datagram's end \(total)")
        }
        if fragment.payload.count < fragment.length { pending[index].cut = true }
        let (conflict, grown) = Self.fill(&pending[index], at: fragment.offset, fragment.payload)
        pendingBytes += grown
        if conflict { _ = problem("overlapping IP fragment with different bytes: the bytes that arrived first are kept") }

        if pending[index].isComplete {
            let done = pending.remove(at: index)
            pendingBytes -= done.data.count
            counters.reassembledDatagrams += 1
            return Array(done.data[0..<(done.total ?? 0)])
        }
        while pending.count > limits.datagrams || pendingBytes > limits.bytes, !pending.isEmpty {
            drop(0, "more than \(limits.datagrams) datagrams or \(limits.bytes) bytes waiting", &counters, &out)
        }
        return nil
    }

    /// The input ended: every datagram still waiting is incomplete.
    mutating func finish(counters: inout ReplayCounters, out: inout [ReplayItem]) {
        while !pending.isEmpty { drop(0, "still incomplete at the end of the input", &counters, &out) }
    }

    /// Copies the bytes not yet filled; returns whether an overlap disagrees with bytes already held, and by how many
    /// bytes the datagram's buffer grew.
    private static func fill(
        _ p: inout Pending, at offset: Int, _ bytes: UnsafeRawBufferPointer
    ) -> (conflict: Bool, grown: Int) {
        let end = offset + bytes.count
        guard end > offset else { return (false, 0) }
        let grown = max(0, end - p.data.count)
        if grown > 0 { p.data.append(contentsOf: repeatElement(0, count: grown)) }
        var conflict = false
        var cursor = offset
        var merged: [Range<Int>] = []
        var new = offset..<end
        for range in p.filled {
            if range.upperBound < new.lowerBound || range.lowerBound > new.upperBound {
                merged.append(range) // disjoint and not adjacent
                continue
            }
            // Overlapping or adjacent: compare the overlap, copy the hole before it.
            let (low, high) = (max(range.lowerBound, offset), min(range.upperBound, end))
            if low < high {
                if cursor < low { copy(&p.data, bytes, from: cursor, to: low, base: offset) }
                for k in low..<high where p.data[k] != bytes[k - offset] {
                    conflict = true
                    break
                }
                cursor = max(cursor, high)
            }
            new = min(new.lowerBound, range.lowerBound)..<max(new.upperBound, range.upperBound)
        }
        if cursor < end { copy(&p.data, bytes, from: cursor, to: end, base: offset) }
        merged.append(new)
        merged.sort { $0.lowerBound < $1.lowerBound }
        p.filled = merged
        return (conflict, grown)
    }

    private static func copy(_ data: inout [UInt8], _ bytes: UnsafeRawBufferPointer, from: Int, to: Int, base: Int) {
        guard to > from else { return }
        data.withUnsafeMutableBytes { d in
            UnsafeMutableRawBufferPointer(rebasing: d[from..<to])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[(from - base)..<(to - base)]))
        }
    }

    /// Drops datagrams whose first fragment is older than the limit (capture time).
    private mutating func expire(before now: ReplayTimestamp, counters: inout ReplayCounters, out: inout [ReplayItem]) {
        var i = 0
        while i < pending.count {
            if now.seconds - pending[i].firstTime.seconds > limits.maximumAge {
                drop(i, "no fragment completed it within \(limits.maximumAge) s", &counters, &out)
            } else {
                i += 1
            }
        }
    }

    private mutating func drop(_ i: Int, _ reason: String, _ counters: inout ReplayCounters, _ out: inout [ReplayItem]) {
        let p = pending.remove(at: i)
        pendingBytes -= p.data.count
        counters.incompleteDatagrams += 1
        let have = p.filled.reduce(0) { $0 + $1.count }
        let of = p.total.map { "\($0)" } ?? "?"
        let cut = p.cut ? ", fragments cut by the snapshot length" : ""
        out.append(.error(ReplayError(
            .unsupportedFragment, at: p.firstFileOffset,
            "incomplete IP datagram \(p.key.source)→\(p.key.destination) id \(p.key.id) dropped (\(have) of \(of) bytes"
                + "\(cut)): \(reason)")))
    }
}
