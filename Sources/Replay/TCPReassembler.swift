import CSTA
import NIOCore

/// TCP reassembly per connection and direction, and framing of what it reassembles.
///
/// - Connections are keyed by their 4-tuple; a SYN on a closed connection's 4-tuple starts a new connection.
/// - The first sequence number is the SYN's (+1) or, mid-stream, the lowest among the first data segments (up to
///   `startupSegments`, held until then), so a capture whose first segments are reordered loses nothing.
/// - A segment at or before the next expected byte is trimmed (retransmission, overlap) and delivered; one beyond it
///   waits, copied, in a bounded list. When the list passes its bound, or the stream closes with segments still
///   waiting, the hole before the first waiting segment is reported as a ``ReplayGap`` and the stream resumes there.
/// - FIN closes a direction once every byte before it has arrived; RST closes both directions at once.
struct TCPReassembler {
    struct Limits {
        var pendingBytes = 4 << 20
        var pendingSegments = 1024
        var maximumPayloadLength = 1 << 20
        /// A capture that starts mid-stream: data segments held before the sequence origin is settled (the lowest
        /// among them), so first segments captured out of order are not taken for retransmissions.
        var startupSegments = 8
        var startupBytes = 256 << 10
        /// How far before the first segment seen a later one may move the origin back.
        var startupReach = 1 << 20
    }

    struct Key: Hashable {
        var a: ReplayEndpoint
        var b: ReplayEndpoint

        init(_ x: ReplayEndpoint, _ y: ReplayEndpoint) {
            if Self.less(x, y) { (a, b) = (x, y) } else { (a, b) = (y, x) }
        }

        static func less(_ x: ReplayEndpoint, _ y: ReplayEndpoint) -> Bool {
            (x.isIPv6 ? 1 : 0, x.high, x.low, x.port) < (y.isIPv6 ? 1 : 0, y.high, y.low, y.port)
        }
    }

    struct Stream {
        var known = false
        var nextSeq: UInt32 = 0
        var finSeq: UInt32?
        var pending: [Held] = []
        var pendingBytes = 0
        var closed = false
        /// Started mid-stream (no SYN) and the origin is not settled yet: data segments are held, not framed.
        var provisional = false
        var startupHeld = 0
        var framer: StreamFramer
    }

    /// When and where a packet was captured.
    struct Stamp {
        var timestamp: ReplayTimestamp
        var fileOffset: Int64
    }

    /// An out-of-order segment waiting for the bytes before it.
    struct Held {
        var seq: UInt32
        var bytes: [UInt8]
        var stamp: Stamp
    }

    struct Connection {
        var info: ReplayConnection
        /// [0]: switch → application, [1]: application → switch.
        var streams: [Stream]
        var closed: Bool { streams[0].closed && streams[1].closed }
    }

    let limits: Limits
    let port: UInt16?
    let framing: CSTAFraming
    let encoding: CSTAEncoding?
    private var connections: [Connection] = []
    private var index: [Key: Int] = [:]
    private var lastKey: Key?
    private var lastIndex = 0
    /// The packet being handled (stamped on what it produces).
    private var timestamp = ReplayTimestamp.zero
    private var fileOffset: Int64 = 0

    init(port: UInt16?, framing: CSTAFraming, encoding: CSTAEncoding?, limits: Limits = Limits()) {
        self.port = port
        self.framing = framing
        self.encoding = encoding
        self.limits = limits
    }

    /// Takes one segment; appends the messages, gaps and framing errors it completes to `out`.
    /// Returns false when the segment is not on the CTI port (with `port` set) and was skipped.
    mutating func accept(
        _ segment: TCPSegment, timestamp: ReplayTimestamp, fileOffset: Int64,
        counters: inout ReplayCounters, out: inout [ReplayItem]
    ) -> Bool {
        self.timestamp = timestamp
        self.fileOffset = fileOffset
        let key = Key(segment.source, segment.destination)
        var c: Int
        if key == lastKey {
            c = lastIndex
        } else if let found = index[key] {
            c = found
        } else {
            guard let created = open(segment, key: key, counters: &counters) else { return false }
            c = created
        }
        if connections[c].closed {
            guard segment.isSYN && !segment.isSYNACK else {
                counters.duplicateBytes += Int64(segment.payload.count)
                return true
            }
            c = open(segment, key: key, counters: &counters) ?? c
        }
        lastKey = key
        lastIndex = c
        let s = connections[c].info.switchSide == segment.source ? 0 : 1
        let (info, limits) = (connections[c].info, self.limits)
        let stamp = Stamp(timestamp: timestamp, fileOffset: fileOffset)
        connections[c].streams[s].deliver(segment, stamp: stamp, limits: limits) { stream, event in
            Self.emit(
                event, stream: &stream, connection: info, direction: s, timestamp: timestamp, fileOffset: fileOffset,
                counters: &counters, out: &out)
        }
        if segment.flags & TCPSegment.rst != 0 {
            for k in 0..<2 where !connections[c].streams[k].closed {
                close(c, k, counters: &counters, out: &out)
            }
        } else if connections[c].streams[s].finished && !connections[c].streams[s].closed {
            close(c, s, counters: &counters, out: &out)
        }
        return true
    }

    /// The input ended: every open direction reports its holes and hands over a last, possibly cut, frame.
    mutating func finish(counters: inout ReplayCounters, out: inout [ReplayItem]) {
        for c in connections.indices {
            for k in 0..<2 where !connections[c].streams[k].closed {
                close(c, k, counters: &counters, out: &out)
            }
        }
    }

    private mutating func open(_ segment: TCPSegment, key: Key, counters: inout ReplayCounters) -> Int? {
        let switchSide: ReplayEndpoint
        let applicationSide: ReplayEndpoint
        if let port {
            guard segment.source.port == port || segment.destination.port == port else {
                counters.nonTCPSkipped += 1
                return nil
            }
            (switchSide, applicationSide) = segment.source.port == port
                ? (segment.source, segment.destination) : (segment.destination, segment.source)
        } else if let inbound = segment.inbound {
            // Captured on the application's host (`serve --record` says so for every packet): what it received came
            // from the switch, whoever dialled.
            (switchSide, applicationSide) = inbound
                ? (segment.source, segment.destination) : (segment.destination, segment.source)
        } else if segment.isSYNACK {
            (switchSide, applicationSide) = (segment.source, segment.destination)
        } else if segment.isSYN {
            (switchSide, applicationSide) = (segment.destination, segment.source)
        } else {
            (switchSide, applicationSide) = segment.source.port <= segment.destination.port
                ? (segment.source, segment.destination) : (segment.destination, segment.source)
        }
        let framer = StreamFramer(framing: framing, encoding: encoding, maximumPayloadLength: limits.maximumPayloadLength)
        let info = ReplayConnection(id: counters.connections, switchSide: switchSide, applicationSide: applicationSide)
        counters.connections += 1
        connections.append(Connection(info: info, streams: [Stream(framer: framer), Stream(framer: framer)]))
        index[key] = connections.count - 1
        lastKey = nil
        return connections.count - 1
    }

    private mutating func close(_ c: Int, _ s: Int, counters: inout ReplayCounters, out: inout [ReplayItem]) {
        let (info, timestamp, fileOffset, limits) = (connections[c].info, self.timestamp, self.fileOffset, self.limits)
        connections[c].streams[s].close(limits: limits) { stream, event in
            Self.emit(
                event, stream: &stream, connection: info, direction: s, timestamp: timestamp, fileOffset: fileOffset,
                counters: &counters, out: &out)
        }
    }

    private static func emit(
        _ event: Stream.Event, stream: inout Stream, connection: ReplayConnection, direction s: Int,
        timestamp: ReplayTimestamp, fileOffset: Int64, counters: inout ReplayCounters, out: inout [ReplayItem]
    ) {
        let direction: ReplayDirection = s == 0 ? .switchToApplication : .applicationToSwitch
        switch event {
        case .duplicate(let count):
            counters.duplicateBytes += Int64(count)
        case .gap(let expected, let resumed, let missing):
            counters.gaps += 1
            counters.gapBytes += Int64(missing)
            out.append(.gap(ReplayGap(
                connection: connection, direction: direction, expectedSeq: expected, resumedAt: resumed,
                bytesMissing: missing, fileOffset: fileOffset)))
        case .data(let atEnd, let stamp):
            let (timestamp, fileOffset) = stamp.map { ($0.timestamp, $0.fileOffset) } ?? (timestamp, fileOffset)
            stream.framer.drain(atEnd: atEnd) { payload, framing, encoding, invokeId, frameIndex, _ in
                counters.messages += 1
                out.append(.message(ReplayMessage(
                    timestamp: timestamp, connection: connection, direction: direction, framing: framing,
                    encoding: encoding, headerInvokeId: invokeId, payload: payload, frameIndex: frameIndex,
                    fileOffset: fileOffset)))
            } error: { error, streamOffset in
                counters.framingErrors += 1
                out.append(.error(ReplayError(
                    .framing, at: fileOffset,
                    "\(connection) \(direction.rawValue) stream byte \(streamOffset): \(error)")))
            }
        }
    }
}

extension TCPReassembler.Stream {
    enum Event {
        /// Retransmitted or overlapping bytes trimmed.
        case duplicate(Int)
        case gap(expected: UInt32, resumed: UInt32, missing: Int)
        /// Bytes were appended to the framer: drain it. `stamp`: the capture time of a held segment whose bytes these
        /// are (after a gap); `nil`: the packet being handled.
        case data(atEnd: Bool, stamp: TCPReassembler.Stamp?)
    }

    /// Every byte up to the FIN has arrived.
    var finished: Bool {
        guard let finSeq else { return false }
        return known && Int32(bitPattern: nextSeq &- finSeq) >= 0
    }

    @inline(__always) func relative(_ seq: UInt32) -> Int32 { Int32(bitPattern: seq &- nextSeq) }

    mutating func deliver(
        _ segment: TCPSegment, stamp: TCPReassembler.Stamp, limits: TCPReassembler.Limits,
        _ handle: (inout Self, Event) -> Void
    ) {
        guard !closed else {
            handle(&self, .duplicate(segment.payload.count))
            return
        }
        var dataSeq = segment.seq
        if segment.isSYN {
            dataSeq = segment.seq &+ 1
            if !known { (known, nextSeq) = (true, dataSeq) }
        } else if !known {
            (known, nextSeq, provisional) = (true, segment.seq, true)
        }
        if !segment.payload.isEmpty {
            if provisional {
                holdAtStart(dataSeq, segment.payload, stamp: stamp, limits: limits, handle)
            } else {
                insert(dataSeq, segment.payload, stamp: stamp, limits: limits, handle)
            }
        }
        if segment.flags & TCPSegment.fin != 0 {
            finSeq = dataSeq &+ UInt32(truncatingIfNeeded: segment.payload.count)
            if provisional { settle(limits: limits, handle) }
        }
    }

    /// Mid-stream start: keeps the segment, moving the origin back when it lies before it (within reach); settles the
    /// origin after enough segments or bytes.
    private mutating func holdAtStart(
        _ seq: UInt32, _ bytes: UnsafeRawBufferPointer, stamp: TCPReassembler.Stamp, limits: TCPReassembler.Limits,
        _ handle: (inout Self, Event) -> Void
    ) {
        let rel = Int(relative(seq))
        if rel < 0 && -rel <= limits.startupReach { nextSeq = seq }
        hold(seq, bytes, stamp: stamp)
        startupHeld += 1
        if startupHeld >= limits.startupSegments || pendingBytes > limits.startupBytes { settle(limits: limits, handle) }
    }

    /// The origin is settled: what is held and contiguous from it is framed; the rest waits as out of order.
    private mutating func settle(limits: TCPReassembler.Limits, _ handle: (inout Self, Event) -> Void) {
        provisional = false
        takePending(ownStamps: true, handle)
        while pendingBytes > limits.pendingBytes || pending.count > limits.pendingSegments {
            skipHole(handle)
        }
    }

    /// Keeps a copy of a segment that cannot be framed yet, sorted by sequence number (usually it goes last).
    private mutating func hold(_ seq: UInt32, _ bytes: UnsafeRawBufferPointer, stamp: TCPReassembler.Stamp) {
        var at = pending.count
        while at > 0 && Int32(bitPattern: pending[at - 1].seq &- seq) > 0 { at -= 1 }
        pending.insert(TCPReassembler.Held(seq: seq, bytes: Array(bytes), stamp: stamp), at: at)
        pendingBytes += bytes.count
    }

    private mutating func insert(
        _ seq: UInt32, _ bytes: UnsafeRawBufferPointer, stamp: TCPReassembler.Stamp, limits: TCPReassembler.Limits,
        _ handle: (inout Self, Event) -> Void
    ) {
        let rel = Int(relative(seq))
        if rel <= 0 {
            let overlap = -rel
            guard overlap < bytes.count else {
                handle(&self, .duplicate(bytes.count))
                return
            }
            if overlap > 0 { handle(&self, .duplicate(overlap)) }
            framer.append(UnsafeRawBufferPointer(rebasing: bytes[overlap...]))
            nextSeq = nextSeq &+ UInt32(bytes.count - overlap)
            takePending(ownStamps: false, handle)
            handle(&self, .data(atEnd: false, stamp: nil))
            return
        }
        hold(seq, bytes, stamp: stamp) // out of order
        while pendingBytes > limits.pendingBytes || pending.count > limits.pendingSegments {
            skipHole(handle)
        }
    }

    /// Moves the waiting segments that now fit onto the stream. `ownStamps` (after a gap): frame after each segment, so
    /// its messages carry their own capture time (the latest of the held packets so far) rather than that of the
    /// packet that decided the gap.
    private mutating func takePending(ownStamps: Bool, _ handle: (inout Self, Event) -> Void) {
        var latest: TCPReassembler.Stamp?
        while let first = pending.first, relative(first.seq) <= 0 {
            pending.removeFirst()
            pendingBytes -= first.bytes.count
            let overlap = Int(-relative(first.seq))
            if overlap >= first.bytes.count {
                handle(&self, .duplicate(first.bytes.count))
                continue
            }
            if overlap > 0 { handle(&self, .duplicate(overlap)) }
            first.bytes.withUnsafeBytes { framer.append(UnsafeRawBufferPointer(rebasing: $0[overlap...])) }
            nextSeq = nextSeq &+ UInt32(first.bytes.count - overlap)
            if ownStamps {
                // A frame is as late as the latest packet among its bytes (held segments may have been reordered).
                if latest.map({ $0.timestamp < first.stamp.timestamp }) ?? true { latest = first.stamp }
                handle(&self, .data(atEnd: false, stamp: latest))
            }
        }
    }

    /// Gives up on the hole before the first waiting segment: reports it and resumes there.
    private mutating func skipHole(_ handle: (inout Self, Event) -> Void) {
        guard let first = pending.first else { return }
        // What was buffered before the hole is framed first, so complete frames before it are not lost.
        handle(&self, .data(atEnd: false, stamp: nil))
        let missing = Int(relative(first.seq))
        handle(&self, .gap(expected: nextSeq, resumed: first.seq, missing: missing))
        framer.gap()
        nextSeq = first.seq
        takePending(ownStamps: true, handle)
    }

    mutating func close(limits: TCPReassembler.Limits, _ handle: (inout Self, Event) -> Void) {
        if provisional { settle(limits: limits, handle) }
        while !pending.isEmpty { skipHole(handle) }
        // A FIN beyond the last byte seen: the bytes between were never captured, and a frame cut by them is dropped.
        if known, let finSeq, relative(finSeq) > 0 {
            handle(&self, .data(atEnd: false, stamp: nil))
            handle(&self, .gap(expected: nextSeq, resumed: finSeq, missing: Int(relative(finSeq))))
            framer.gap()
            nextSeq = finSeq
        }
        handle(&self, .data(atEnd: true, stamp: nil))
        closed = true
        pending = []
        framer.release()
    }
}
