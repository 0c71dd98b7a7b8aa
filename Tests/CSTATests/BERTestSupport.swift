import NIOCore
@testable import CSTA

/// Decoding helpers shared by the BER test suites.
enum BERTest {
    static func hexBytes(_ text: String) -> [UInt8] {
        let clean = text.filter { $0.isHexDigit }
        var out: [UInt8] = []
        var i = clean.startIndex
        while i < clean.endIndex {
            let j = clean.index(i, offsetBy: 2)
            out.append(UInt8(clean[i..<j], radix: 16)!)
            i = j
        }
        return out
    }

    static func fields(_ apdu: [UInt8]) throws -> CSTAFields {
        var fields = CSTAFields()
        try apdu.withUnsafeBytes { b in try BERCodec.decode(b, into: &fields) }
        return fields
    }

    static func record(_ apdu: [UInt8]) throws -> CSTARecord {
        let fields = try fields(apdu)
        return CSTAMessage(encoding: .ber, payload: ByteBuffer(bytes: apdu), fields: fields).record()
    }
}
