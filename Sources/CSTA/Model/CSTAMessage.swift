import NIOCore

/// The two encodings of CSTA Phase III.
public enum CSTAEncoding: String, Sendable, Hashable, CaseIterable {
    /// ASN.1 BER, ECMA-285 (ROSE inside an ACSE association).
    case ber
    /// XML, ECMA-323.
    case xml
}

/// One decoded message: the frame payload it came from and the fields found in it.
///
/// Copying a message copies a ``ByteBuffer`` reference and a flat struct: no allocation. Text is rendered on demand.
public struct CSTAMessage: Sendable {
    public var encoding: CSTAEncoding
    /// The frame payload (without the framing header). Field spans are offsets into it.
    public var payload: ByteBuffer
    public var fields: CSTAFields

    public init(encoding: CSTAEncoding, payload: ByteBuffer, fields: CSTAFields) {
        self.encoding = encoding
        self.payload = payload
        self.fields = fields
    }

    /// Decodes one unframed message. Envelope failures throw; a body failure is reported in `fields.eventError`.
    ///
    /// - Parameters:
    ///   - payload: the message bytes without framing.
    ///   - encoding: BER or XML.
    ///   - headerInvokeId: XML over TCP carries the invoke id in the frame header; pass it here.
    public static func decode(
        _ payload: ByteBuffer,
        encoding: CSTAEncoding,
        headerInvokeId: Int64? = nil
    ) throws(CSTADecodeError) -> CSTAMessage {
        var fields = CSTAFields()
        try decodeFields(payload, encoding: encoding, into: &fields)
        if let headerInvokeId { fields.invokeId = headerInvokeId }
        return CSTAMessage(encoding: encoding, payload: payload, fields: fields)
    }

    /// Decodes into an existing fields value (reset first), so a loop can reuse one value.
    @inlinable
    public static func decodeFields(
        _ payload: ByteBuffer,
        encoding: CSTAEncoding,
        into fields: inout CSTAFields
    ) throws(CSTADecodeError) {
        fields = .empty
        let result: Result<Void, CSTADecodeError> = payload.withUnsafeReadableBytes { bytes in
            do throws(CSTADecodeError) {
                switch encoding {
                case .ber: try BERCodec.decode(bytes, into: &fields)
                case .xml: try XMLCodec.decode(bytes, into: &fields)
                }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        try result.get()
    }
}
