import Foundation
import NIOCore
import Testing

@testable import CSTA

/// Helpers shared by the XML test suites.
enum XMLTestSupport {
    static let corpusText = "fixtures/corpus-dev/frames-xml.txt"
    static let corpusFrames = "fixtures/corpus-dev/frames-xml.bin"
    static let corpusExpected = "fixtures/corpus-dev/expected-xml.jsonl"
    static let osvCaptures = "fixtures/real/openscape-voice/captures"
    static let osvTemplates = "fixtures/real/openscape-voice/templates"

    /// Whether the shared fixtures are there; prints why a test is skipped when not.
    static func available(_ path: String) -> Bool {
        if SharedFixtures.exists(path) { return true }
        print("skipped: \(SharedFixtures.url(path).path) is missing")
        return false
    }

    /// Decodes one document with the codec and renders its record.
    static func record(_ doc: [UInt8], invokeId: Int64? = nil) throws -> CSTARecord {
        var fields = CSTAFields()
        try decodeFields(doc, into: &fields).get()
        if let invokeId { fields.invokeId = invokeId }
        return CSTAMessage(encoding: .xml, payload: ByteBuffer(bytes: doc), fields: fields).record()
    }

    /// Decodes without throwing through a closure (typed throws through `withUnsafeBytes` crashes Swift 6.3's IRGen).
    static func decodeFields(_ doc: [UInt8], into fields: inout CSTAFields) -> Result<Void, CSTADecodeError> {
        doc.withUnsafeBytes { bytes in
            do throws(CSTADecodeError) {
                try XMLCodec.decode(bytes, into: &fields)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
    }

    /// libxml2's reading of the document (canonicalised, then scanned).
    static func libxml2Record(_ doc: [UInt8]) throws -> CSTARecord {
        let canonical = try doc.withUnsafeBytes { LibXML2Fallback.canonicalDocument($0) }.get()
        return try record(canonical)
    }

    /// Splits `frames-xml.bin`: (invoke id, payload) per 8-byte-header frame.
    static func frames(_ data: [UInt8]) -> [(Int64, [UInt8])] {
        var out: [(Int64, [UInt8])] = []
        var o = 0
        while o + 8 <= data.count {
            let total = Int(data[o + 2]) << 8 | Int(data[o + 3])
            guard total >= 8, o + total <= data.count else { break }
            let id = Int64(String(decoding: data[(o + 4)..<(o + 8)], as: UTF8.self)) ?? -1
            out.append((id, Array(data[(o + 8)..<(o + total)])))
            o += total
        }
        return out
    }

    /// A capture file's XML payload (framed captures have two `#` comment lines first).
    static func capture(_ url: URL) throws -> [UInt8] {
        let text = try String(contentsOf: url, encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let body = lines.drop(while: { $0.hasPrefix("#") }).joined(separator: "\n")
        return Array(body.utf8)
    }

    static func files(_ dir: String) throws -> [URL] {
        try FileManager.default.contentsOfDirectory(at: SharedFixtures.url(dir), includingPropertiesForKeys: nil)
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }
}
