import CSTA
import NIOCore

extension ReplayMessage {
    /// The message decoded as `ctibridge decode` decodes it (the frame header's invoke id applied).
    public func decode() -> Result<CSTAMessage, CSTADecodeError> {
        do throws(CSTADecodeError) {
            return .success(try CSTAMessage.decode(payload, encoding: encoding, headerInvokeId: headerInvokeId))
        } catch {
            return .failure(error)
        }
    }

    /// The capture time as seconds since the Unix epoch (`nil` for text inputs, which carry none).
    public var epochSeconds: Double? {
        timestamp == .zero ? nil : Double(timestamp.seconds) + Double(timestamp.nanoseconds) / 1e9
    }
}

/// What a replay saw, counted: messages per service and per event, PDUs, calls, decode errors, reader errors and gaps,
/// per connection and direction. Built by `ctibridge replay --summary` while it reads.
public struct ReplaySummary: Sendable {
    public struct ConnectionCounts: Sendable {
        public var connection: ReplayConnection
        public var switchToApplication = 0
        public var applicationToSwitch = 0
        public var unknownDirection = 0
        public var first: ReplayTimestamp?
        public var last: ReplayTimestamp?
    }

    /// Messages by `service` (events are `CSTAEventReport`), and events by `event`.
    public private(set) var services: [String: Int] = [:]
    public private(set) var events: [String: Int] = [:]
    public private(set) var pdus: [String: Int] = [:]
    public private(set) var messages = 0
    /// Messages that did not decode, and messages whose event body did not (`eventError`).
    public private(set) var decodeErrors = 0
    public private(set) var eventErrors = 0
    /// Reader errors by kind (malformed packets, framing garbage, …).
    public private(set) var readerErrors: [String: Int] = [:]
    public private(set) var gaps = 0
    public private(set) var gapBytes: Int64 = 0
    public private(set) var connections: [Int: ConnectionCounts] = [:]
    /// Call ids the switch's events named. Distinct calls are counted through a set: a day of a busy hotline is some
    /// hundred thousand ids, a few megabytes.
    private var callIDs: Set<String> = []
    public var calls: Int { callIDs.count }

    public init() {}

    /// Counts one item; `record` is the decoded message's key set (`nil` when it did not decode).
    public mutating func add(_ item: ReplayItem, record: CSTARecord?) {
        switch item {
        case .message(let message):
            messages += 1
            var counts = connections[message.connection.id] ?? ConnectionCounts(connection: message.connection)
            switch message.direction {
            case .switchToApplication: counts.switchToApplication += 1
            case .applicationToSwitch: counts.applicationToSwitch += 1
            case .unknown: counts.unknownDirection += 1
            }
            if message.timestamp != .zero {
                if counts.first == nil { counts.first = message.timestamp }
                counts.last = message.timestamp
            }
            connections[message.connection.id] = counts
            guard let record else {
                decodeErrors += 1
                return
            }
            if record.string("eventError") != nil { eventErrors += 1 }
            if let pdu = record.string("pdu") { pdus[pdu, default: 0] += 1 }
            if let service = record.string("service") ?? record.string("pdu") { services[service, default: 0] += 1 }
            if let event = record.string("event") {
                events[event, default: 0] += 1
                // Only the switch's events: a request's callID names a call the events already named.
                for key in ["callID", "secondaryCallID"] {
                    if let id = record.string(key), !id.isEmpty { callIDs.insert(id) }
                }
            }
        case .gap(let gap):
            gaps += 1
            gapBytes += Int64(gap.bytesMissing)
        case .error(let error):
            readerErrors[error.kind.rawValue, default: 0] += 1
        }
    }

    /// One JSON object (keys sorted within each map), for scripts.
    public func json(counters: ReplayCounters, format: ReplayFormat) -> String {
        func map(_ m: [String: Int]) -> String {
            "{" + m.sorted { $0.key < $1.key }.map { "\(KeySetJSON.quoted($0.key)): \($0.value)" }.joined(separator: ", ") + "}"
        }
        let connectionList = connections.values.sorted { $0.connection.id < $1.connection.id }.map { c in
            var parts = ["\"id\": \(c.connection.id)"]
            if let s = c.connection.switchSide { parts.append("\"switch\": \(KeySetJSON.quoted(s.description))") }
            if let a = c.connection.applicationSide { parts.append("\"application\": \(KeySetJSON.quoted(a.description))") }
            parts.append("\"switchToApplication\": \(c.switchToApplication)")
            parts.append("\"applicationToSwitch\": \(c.applicationToSwitch)")
            if c.unknownDirection > 0 { parts.append("\"unknownDirection\": \(c.unknownDirection)") }
            if let first = c.first, let last = c.last {
                parts.append("\"first\": \(KeySetJSON.quoted(first.iso8601))")
                parts.append("\"last\": \(KeySetJSON.quoted(last.iso8601))")
            }
            return "{" + parts.joined(separator: ", ") + "}"
        }
        let fields: [String] = [
            "\"type\": \"summary\"", "\"format\": \"\(format.rawValue)\"",
            "\"packets\": \(counters.packets)", "\"bytes\": \(counters.bytes)",
            "\"messages\": \(messages)", "\"decodeErrors\": \(decodeErrors)", "\"eventErrors\": \(eventErrors)",
            "\"calls\": \(calls)", "\"gaps\": \(gaps)", "\"gapBytes\": \(gapBytes)",
            "\"readerErrors\": \(map(readerErrors))", "\"pdus\": \(map(pdus))", "\"services\": \(map(services))",
            "\"events\": \(map(events))", "\"duplicateBytes\": \(counters.duplicateBytes)",
            "\"truncatedPackets\": \(counters.truncatedPackets)", "\"skippedPackets\": \(counters.nonTCPSkipped)",
            "\"fragments\": \(counters.fragments)", "\"reassembledDatagrams\": \(counters.reassembledDatagrams)",
            "\"incompleteDatagrams\": \(counters.incompleteDatagrams)", "\"malformedPackets\": \(counters.malformedPackets)",
            "\"connections\": [" + connectionList.joined(separator: ", ") + "]",
        ]
        return "{" + fields.joined(separator: ", ") + "}"
    }

    /// A table for people.
    public func text(counters: ReplayCounters, format: ReplayFormat) -> String {
        var lines: [String] = []
        let isCapture = format == .pcap || format == .pcapng
        lines.append(
            "format \(format.rawValue): " + (isCapture ? "\(counters.packets) packets, " : "") + "\(counters.bytes) bytes")
        lines.append(
            "messages \(messages) (decode errors \(decodeErrors), event-body errors \(eventErrors)), calls \(calls), "
                + "gaps \(gaps) (\(gapBytes) bytes missing)")
        if counters.duplicateBytes > 0 || counters.truncatedPackets > 0 || counters.nonTCPSkipped > 0
            || counters.fragments > 0 || counters.malformedPackets > 0
        {
            lines.append(
                "retransmitted/overlapping bytes \(counters.duplicateBytes), truncated packets \(counters.truncatedPackets), "
                    + "skipped packets \(counters.nonTCPSkipped), fragments \(counters.fragments) "
                    + "(\(counters.reassembledDatagrams) datagrams reassembled, \(counters.incompleteDatagrams) incomplete), "
                    + "malformed packets \(counters.malformedPackets)")
        }
        if !readerErrors.isEmpty {
            lines.append("reader errors: " + readerErrors.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        for c in connections.values.sorted(by: { $0.connection.id < $1.connection.id }) {
            var line = "connection \(c.connection): switch→application \(c.switchToApplication), "
                + "application→switch \(c.applicationToSwitch)"
            if c.unknownDirection > 0 { line += ", direction unknown \(c.unknownDirection)" }
            if let first = c.first, let last = c.last { line += ", \(first.iso8601) … \(last.iso8601)" }
            lines.append(line)
        }
        func table(_ title: String, _ m: [String: Int]) {
            guard !m.isEmpty else { return }
            lines.append(title)
            let width = m.keys.map(\.count).max() ?? 0
            for (name, count) in m.sorted(by: { ($0.value, $1.key) > ($1.value, $0.key) }) {
                lines.append("  " + name + String(repeating: " ", count: width - name.count) + "  \(count)")
            }
        }
        table("services", services)
        table("events", events)
        return lines.joined(separator: "\n")
    }
}

extension ReplayTimestamp {
    /// `2026-11-23T10:15:02.123456Z` (UTC, microseconds).
    public var iso8601: String {
        JSONText.iso8601(unixMicroseconds: seconds * 1_000_000 + Int64(nanoseconds / 1000))
    }
}
