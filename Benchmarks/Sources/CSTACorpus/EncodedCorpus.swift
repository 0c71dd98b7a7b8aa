import CSTA

/// Encoded messages laid out back to back in one buffer, so a decode loop walks it without allocating.
///
/// `bytes` holds the framed stream (`frames.bin`/`frames-xml.bin` layout) and `payloads` the (offset, count) of each
/// message payload inside it, i.e. without the framing header.
public struct EncodedCorpus: Sendable {
    public enum Framing: String, Sendable {
        /// 2-byte big-endian length + BER APDU (the peers' `frames.bin`).
        case u16
        /// ECMA-323 over TCP: `00 00`, u16 total length including the 8-byte header, 4 ASCII digits invoke id.
        case ecma323
    }

    public let encoding: CSTAEncoding
    public let framing: Framing
    public private(set) var bytes: [UInt8] = []
    public private(set) var payloads: [(start: Int, count: Int)] = []

    public var count: Int { payloads.count }
    public var payloadBytes: Int { payloads.reduce(0) { $0 + $1.count } }

    /// Why a corpus could not be built: the codec's encoder failed (e.g. still a placeholder) or produced a message
    /// the framing cannot carry.
    public struct BuildError: Error, CustomStringConvertible {
        public var description: String
    }

    /// Encodes every record with the project's encoder for `encoding` and frames it.
    public init(records: [CSTARecord], encoding: CSTAEncoding) throws(BuildError) {
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(records.count)
        for (index, record) in records.enumerated() {
            do {
                payloads.append(try encoding == .ber ? BERCodec.encode(record) : XMLCodec.encode(record))
            } catch {
                throw BuildError(
                    description: "\(encoding == .ber ? "BERCodec" : "XMLCodec").encode failed for record \(index) "
                        + "(\(record.string("event") ?? "?")): \(error) — is the codec still a placeholder?"
                )
            }
        }
        try self.init(payloads: payloads, encoding: encoding)
    }

    /// Frames already encoded messages (u16 for BER, the ECMA-323 header for XML).
    public init(payloads messages: [[UInt8]], encoding: CSTAEncoding) throws(BuildError) {
        self.encoding = encoding
        framing = encoding == .ber ? .u16 : .ecma323
        bytes.reserveCapacity(messages.reduce(0) { $0 + $1.count + 8 })
        payloads.reserveCapacity(messages.count)
        for (index, message) in messages.enumerated() {
            var payload = message[...]
            // Tolerate an XML encoder that already writes the ECMA-323 header.
            if encoding == .xml, payload.count > 8, payload[0] == 0, payload[1] == 0 {
                payload = payload.dropFirst(8)
            }
            switch framing {
            case .u16:
                guard payload.count <= 0xFFFF else {
                    throw BuildError(description: "message \(index): \(payload.count) bytes do not fit the u16 framing")
                }
                bytes.append(UInt8(payload.count >> 8))
                bytes.append(UInt8(payload.count & 0xFF))
            case .ecma323:
                let total = payload.count + 8
                guard total <= 0xFFFF else {
                    throw BuildError(description: "message \(index): \(total) bytes do not fit the ECMA-323 header")
                }
                // Unsolicited events carry invoke id 9999 in the header, as in the peers' corpus.
                bytes.append(contentsOf: [0, 0, UInt8(total >> 8), UInt8(total & 0xFF)])
                bytes.append(contentsOf: Array("9999".utf8))
            }
            payloads.append((bytes.count, payload.count))
            bytes.append(contentsOf: payload)
        }
    }

    /// The standard benchmark corpus: `count` events from ``EventGenerator`` with `seed`.
    public static func events(count: Int, seed: UInt64, encoding: CSTAEncoding) throws(BuildError) -> EncodedCorpus {
        var generator = EventGenerator(seed: seed)
        return try EncodedCorpus(records: generator.records(count: count), encoding: encoding)
    }
}
