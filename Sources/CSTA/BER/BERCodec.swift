// PLACEHOLDER — replaced by the BER codec implementation.
public enum BERCodec {
    public static func decode(_ bytes: UnsafeRawBufferPointer, into fields: inout CSTAFields) throws(CSTADecodeError) {
        throw CSTADecodeError(.empty, at: 0)
    }
    public static func encode(_ record: CSTARecord) throws(CSTAEncodeError) -> [UInt8] {
        throw CSTAEncodeError("not implemented")
    }
    public static func forEachListItem(_ list: ListField, in bytes: UnsafeRawBufferPointer, _ body: (CSTAListItem) -> Void) {}
}
