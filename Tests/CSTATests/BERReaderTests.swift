import Testing
@testable import CSTA

@Suite struct BERReaderTests {
    func read(_ bytes: [UInt8], depth: Int = 0) throws -> BERElement {
        try bytes.withUnsafeBytes { b in try BERCursor.readElement(b, at: 0, limit: b.count, depth: depth) }
    }

    func error(_ bytes: [UInt8]) -> CSTADecodeError? {
        do { _ = try read(bytes); return nil } catch { return error as? CSTADecodeError }
    }

    @Test func shortAndLongLengths() throws {
        let short = try read([0x04, 0x02, 0xAA, 0xBB])
        #expect(short.contentStart == 2 && short.contentEnd == 4 && short.end == 4)
        let long = try read([0x04, 0x81, 0x02, 0xAA, 0xBB])
        #expect(long.contentStart == 3 && long.contentCount == 2)
        let twoOctets = try read([0x04, 0x82, 0x00, 0x01, 0xAA])
        #expect(twoOctets.contentCount == 1)
        #expect(error([0x04, 0xFF]) == CSTADecodeError(.invalidLength, at: 1))
        #expect(error([0x04, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9]) == CSTADecodeError(.invalidLength, at: 1))
    }

    @Test func multiByteTags() throws {
        let e = try read([0xBF, 0x81, 0x00, 0x00])  // [128] constructed
        #expect(e.number == 128 && e.tagClass == 0x80 && e.isConstructed)
        let app = try read([0x5F, 0x1F, 0x00])  // [APPLICATION 31]
        #expect(app.tag == Tag.application(31))
        #expect(error([0x9F, 0x80, 0x01, 0x00])?.code == .invalidTag)  // non-minimal
        #expect(error([0x9F, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00])?.code == .invalidTag)  // too long
        #expect(error([0x9F, 0x81]) == CSTADecodeError(.truncated, at: 2))
    }

    @Test func indefiniteLength() throws {
        let e = try read([0x30, 0x80, 0x04, 0x01, 0xAA, 0xA0, 0x80, 0x00, 0x00, 0x00, 0x00])
        #expect(e.contentStart == 2 && e.contentEnd == 9 && e.end == 11)
        #expect(error([0x04, 0x80, 0x00, 0x00]) == CSTADecodeError(.invalidLength, at: 1))  // primitive
        #expect(error([0x30, 0x80, 0x04, 0x01, 0xAA])?.code == .truncated)
    }

    @Test func depthBound() {
        var nested: [UInt8] = [0x05, 0x00]
        for _ in 0..<40 { nested = [0x30, 0x80] + nested + [0x00, 0x00] }
        #expect(error(nested)?.code == .nestingTooDeep)
        var ok: [UInt8] = [0x05, 0x00]
        for _ in 0..<10 { ok = [0x30, 0x80] + ok + [0x00, 0x00] }
        #expect(error(ok) == nil)
    }

    @Test func truncationOffsets() {
        #expect(error([0x30]) == CSTADecodeError(.truncated, at: 1))
        #expect(error([0x30, 0x05, 0x02, 0x01]) == CSTADecodeError(.truncated, at: 4))
        #expect(error([0x30, 0x82, 0x01]) == CSTADecodeError(.truncated, at: 3))
        // A child longer than its parent but inside the buffer.
        let bytes: [UInt8] = [0x30, 0x03, 0x04, 0x05, 0x01, 0xAA, 0xBB, 0xCC]
        let inner: CSTADecodeError? = bytes.withUnsafeBytes { b in
            do {
                var c = BERCursor(b)
                let outer = try c.next()!
                var children = try c.children(of: outer)
                _ = try children.next()
                return nil
            } catch { return error as? CSTADecodeError }
        }
        #expect(inner == CSTADecodeError(.lengthExceedsParent, at: 3))
        // A whole APDU cut short: the offset is where the input ended.
        #expect(throws: CSTADecodeError(.truncated, at: 8)) {
            try BERTest.fields([0xA1, 0x06, 0x02, 0x05, 0x01, 0x02, 0x03, 0x04])
        }
    }

    @Test func integers() throws {
        let bytes: [UInt8] = [0x02, 0x02, 0x00, 0xD3, 0x02, 0x01, 0xFF, 0x02, 0x00]
        try bytes.withUnsafeBytes { b in
            var c = BERCursor(b)
            #expect(try c.next()?.integer(b) == 211)
            #expect(try c.next()?.integer(b) == -1)
            let empty = try c.next()
            #expect(throws: CSTADecodeError.self) { try empty?.integer(b) }
        }
    }
}
