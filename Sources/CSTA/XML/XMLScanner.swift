#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An allocation-free pull scanner for the XML subset ECMA-323 messages use.
///
/// Handles the XML declaration, processing instructions, comments, start/end/self-closing tags with prefixes and
/// attributes, character and entity references (validated, left in place). Checks that end tags match start tags
/// (using a caller-provided stack, so nothing is allocated). DOCTYPE, CDATA, unknown entities and non-UTF-8
/// encodings are reported as ``XMLScanIssue/isUnsupported`` in strict mode; in lenient mode (used only after libxml2
/// has confirmed the document is well formed) DOCTYPE is skipped and CDATA sections are reported as tokens.
struct XMLScanner {
    let b: UnsafeRawBufferPointer
    private(set) var i: Int
    let end: Int
    /// Pairs (name offset, name length) of the open elements.
    let stack: UnsafeMutablePointer<UInt32>
    let lenient: Bool
    /// Scanning a content fragment (list items): several top-level elements and text are allowed.
    let fragment: Bool
    private(set) var depth = 0
    /// The token ``next()`` just read (kept here rather than returned: a wide struct copied out of every call was
    /// the scanner's main cost).
    private(set) var token = XMLToken()
    private var rootClosed = false
    private var pendingEnd = false
    private var pendingEndOffset = 0

    /// - Parameter stack: room for `2 * XMLLimits.maximumDepth` values.
    init(
        _ b: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil, stack: UnsafeMutablePointer<UInt32>,
        lenient: Bool = false, fragment: Bool = false
    ) {
        self.b = b
        self.i = start
        self.end = min(end ?? b.count, b.count)
        self.stack = stack
        self.lenient = lenient
        self.fragment = fragment
    }

    @inline(__always) private func fail(_ code: CSTADecodeError.Code, _ at: Int) -> XMLScanIssue {
        .malformed(CSTADecodeError(code, at: min(max(at, 0), b.count)))
    }

    /// Byte classes: `0` other, `1` name character, `2` name start, `3` colon, `4` non-ASCII. A `StaticString` keeps
    /// the table in read-only data: no lazy global initialisation, no reference counting on the hot path.
    static let classes: StaticString =
        "0000000000000000000000000000000000000000000001101111111111300000022222222222222222222222222000020222222222222222222222222220000044444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444444"

    @inline(__always) static func byteClass(_ c: UInt8) -> UInt8 { classes.utf8Start[Int(c)] &- 0x30 }

    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D }
    @inline(__always) static func isNameStart(_ c: UInt8) -> Bool {
        (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A || c == 0x5F || c == 0x3A || c >= 0x80
    }
    @inline(__always) static func isNameChar(_ c: UInt8) -> Bool {
        isNameStart(c) || (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2E
    }

    /// Reads the next start, end or CDATA token into ``token``; `.eof` after the root element closed.
    mutating func next() throws(XMLScanIssue) -> XMLToken.Kind {
        // Each branch writes a whole token (start tags build theirs in locals: one store instead of a reset + fill).
        if pendingEnd {
            pendingEnd = false
            token = XMLToken()
            token.kind = .end
            token.tagStart = pendingEndOffset
            token.depth = depth
            depth -= 1
            if depth == 0 && !fragment { rootClosed = true }
            return token.kind
        }
        while true {
            guard i < end else {
                if depth > 0 || (!rootClosed && !fragment) {
                    throw fail(i == 0 ? .empty : .truncated, end)
                }
                token = XMLToken()
                token.kind = .eof
                return token.kind
            }
            let c = b[i]
            if c != 0x3C {  // text
                if (depth > 0 || fragment) && skipPlainText() { continue }
                try scanText()
                continue
            }
            guard i + 1 < end else { throw fail(.truncated, end) }
            let c1 = b[i + 1]
            if c1 == 0x3F {  // <?
                try scanPI()
                continue
            }
            if c1 == 0x21 {  // <!
                if hasPrefix("<!--", at: i) {
                    try skipComment()
                    continue
                }
                if hasPrefix("<![CDATA[", at: i) {
                    guard depth > 0 else { throw fail(.malformedXML, i) }
                    guard lenient else { throw XMLScanIssue.unsupported(i) }
                    let start = i + 9
                    guard let close = find("]]>", from: start) else { throw fail(.truncated, end) }
                    i = close + 3
                    token = XMLToken()
                    token.kind = .cdata
                    token.tagStart = start
                    token.contentStart = close
                    token.depth = depth
                    return token.kind
                }
                if hasPrefix("<!DOCTYPE", at: i) {
                    guard depth == 0, !rootClosed else { throw fail(.malformedXML, i) }
                    guard lenient else { throw XMLScanIssue.unsupported(i) }
                    try skipDoctype()
                    continue
                }
                throw fail(.malformedXML, i)
            }
            if c1 == 0x2F {  // </
                return try scanEndTag()
            }
            return try scanStartTag()
        }
    }

    // MARK: Markup

    @inline(__always)
    private mutating func scanStartTag() throws(XMLScanIssue) -> XMLToken.Kind {
        let tagStart = i
        if rootClosed && !fragment { throw fail(.trailingBytes, i) }
        guard depth < XMLLimits.maximumDepth else { throw fail(.nestingTooDeep, i) }
        i += 1
        let (nameStart, localStart) = try scanName()
        let nameEnd = i
        let hash = XMLNameTable.hash(b.baseAddress! + localStart, nameEnd - localStart)
        let attrEnd: Int
        var selfClosing = false
        // Attributes.
        while true {
            var hadSpace = false
            while i < end, Self.isSpace(b[i]) {
                i += 1
                hadSpace = true
            }
            guard i < end else { throw fail(.truncated, end) }
            let c = b[i]
            if c == 0x3E {  // >
                attrEnd = i
                i += 1
                break
            }
            if c == 0x2F {  // />
                guard i + 1 < end else { throw fail(.truncated, end) }
                guard b[i + 1] == 0x3E else { throw fail(.malformedXML, i) }
                attrEnd = i
                selfClosing = true
                i += 2
                break
            }
            guard hadSpace else { throw fail(.malformedXML, i) }
            _ = try scanName()
            while i < end, Self.isSpace(b[i]) { i += 1 }
            guard i < end else { throw fail(.truncated, end) }
            guard b[i] == 0x3D else { throw fail(.malformedXML, i) }  // =
            i += 1
            while i < end, Self.isSpace(b[i]) { i += 1 }
            guard i < end else { throw fail(.truncated, end) }
            let quote = b[i]
            guard quote == 0x22 || quote == 0x27 else { throw fail(.malformedXML, i) }
            i += 1
            while true {
                guard i < end else { throw fail(.truncated, end) }
                let v = b[i]
                if v == quote { break }
                if v == 0x3C { throw fail(.malformedXML, i) }
                if v == 0x26 {
                    try scanReference()
                    continue
                }
                if v >= 0x80 {
                    try scanUTF8()
                    continue
                }
                if v < 0x20 && !Self.isSpace(v) { throw fail(.malformedXML, i) }
                i += 1
            }
            i += 1
        }
        depth += 1
        token = XMLToken(
            nameStart: nameStart, nameCount: nameEnd - nameStart, localStart: localStart,
            localCount: nameEnd - localStart, attrStart: nameEnd, attrEnd: attrEnd, tagStart: tagStart,
            contentStart: i, depth: depth, localHash: hash, kind: .start, selfClosing: selfClosing)
        stack[2 * (depth - 1)] = UInt32(truncatingIfNeeded: nameStart)
        stack[2 * (depth - 1) + 1] = UInt32(truncatingIfNeeded: nameEnd - nameStart)
        if selfClosing {
            pendingEnd = true
            pendingEndOffset = i
        }
        return .start
    }

    @inline(__always)
    private mutating func scanEndTag() throws(XMLScanIssue) -> XMLToken.Kind {
        token = XMLToken()
        token.kind = .end
        token.tagStart = i
        let at = i
        guard depth > 0 else { throw fail(.malformedXML, at) }
        // The name must be the open element's, byte for byte, followed by white space or `>`.
        let openStart = Int(stack[2 * (depth - 1)])
        let openCount = Int(stack[2 * (depth - 1) + 1])
        let nameStart = i + 2
        guard nameStart + openCount < end else { throw fail(.truncated, end) }
        let base = b.baseAddress!
        guard Self.equalBytes(base + openStart, base + nameStart, openCount) else { throw fail(.malformedXML, at) }
        i = nameStart + openCount
        let after = b[i]
        guard after == 0x3E || Self.isSpace(after) else { throw fail(.malformedXML, at) }
        while i < end, Self.isSpace(b[i]) { i += 1 }
        guard i < end else { throw fail(.truncated, end) }
        guard b[i] == 0x3E else { throw fail(.malformedXML, i) }
        i += 1
        token.depth = depth
        depth -= 1
        if depth == 0 && !fragment { rootClosed = true }
        return token.kind
    }

    /// A (qualified) name at `i`; returns its start and the start of its local part.
    @inline(__always)
    private mutating func scanName() throws(XMLScanIssue) -> (Int, Int) {
        let start = i
        guard i < end else { throw fail(.truncated, end) }
        let first = Self.byteClass(b[i])
        guard first == 2 || first == 4 else { throw fail(.malformedXML, i) }
        var local = start
        var j = i
        let p = b.baseAddress!.assumingMemoryBound(to: UInt8.self)
        while j < end {
            if j &+ 8 <= end {  // eight ASCII letters at a time; the byte loop takes anything else
                let w = UInt64(littleEndian: UnsafeRawPointer(p + j).loadUnaligned(as: UInt64.self))
                let run = Self.letterRun(w)
                j &+= run
                if run == 8 { continue }
                // The byte that stopped the run, from the word already loaded: `>`, `/`, `=` or a space end the name.
                let c = UInt8(truncatingIfNeeded: w >> UInt64(run &<< 3))
                if c == 0x3E || c == 0x20 || c == 0x2F || c == 0x3D {
                    i = j
                    return (start, local)
                }
            }
            let k = Self.byteClass(p[j])
            if k &- 1 < 2 {  // name character or name start
                j &+= 1
                continue
            }
            if k == 3 {
                guard local == start, j + 1 < end, Self.byteClass(p[j + 1]) == 2 || Self.byteClass(p[j + 1]) == 4 else {
                    throw fail(.malformedXML, j)
                }
                local = j + 1
                j &+= 1
            } else if k == 4 {
                i = j
                try scanUTF8()
                j = i
            } else {
                i = j
                return (start, local)
            }
        }
        i = j
        throw fail(.truncated, end)
    }

    // MARK: Text

    /// Inside an element: skips plain text eight bytes at a time up to the next `<` and returns `true`; stops at the
    /// first byte that needs a look (`&`, a control character, non-ASCII) or near the end and returns `false`, leaving
    /// ``scanText()`` to go on from there.
    @inline(__always)
    private mutating func skipPlainText() -> Bool {
        let p = b.baseAddress!
        var j = i
        while j &+ 8 <= end {
            let k = Self.textStop(UInt64(littleEndian: p.loadUnaligned(fromByteOffset: j, as: UInt64.self)))
            j &+= k
            if k == 8 { continue }
            i = j
            return p.load(fromByteOffset: j, as: UInt8.self) == 0x3C
        }
        i = j
        return false
    }

    private mutating func scanText() throws(XMLScanIssue) {
        let outside = depth == 0 && !fragment
        if !outside {
            // Fast path: plain ASCII text up to the next tag.
            let p = b.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var j = i
            while j < end {
                let c = p[j]
                if c == 0x3C {
                    i = j
                    return
                }
                if c == 0x26 || c >= 0x80 || (c < 0x20 && !Self.isSpace(c)) { break }
                j &+= 1
            }
            i = j
        }
        while i < end {
            let c = b[i]
            if c == 0x3C { return }
            if outside && !Self.isSpace(c) { throw fail(rootClosed ? .trailingBytes : .malformedXML, i) }
            if c == 0x26 {
                try scanReference()
                continue
            }
            if c >= 0x80 {
                try scanUTF8()
                continue
            }
            if c < 0x20 && !Self.isSpace(c) { throw fail(.malformedXML, i) }
            i += 1
        }
    }

    /// `&lt;` `&#60;` `&#x3C;` … at `i`. Other entity names need a DTD: libxml2's business.
    private mutating func scanReference() throws(XMLScanIssue) {
        let at = i
        i += 1
        guard i < end else { throw fail(.truncated, end) }
        if b[i] == 0x23 {  // #
            i += 1
            var hex = false
            if i < end, b[i] == 0x78 {
                hex = true
                i += 1
            }
            var value: UInt32 = 0
            var digits = 0
            while i < end, b[i] != 0x3B {
                let c = b[i]
                let d: UInt32
                if c >= 0x30 && c <= 0x39 {
                    d = UInt32(c - 0x30)
                } else if hex, (c | 0x20) >= 0x61, (c | 0x20) <= 0x66 {
                    d = UInt32((c | 0x20) - 0x61 + 10)
                } else {
                    throw fail(.malformedXML, at)
                }
                value = value &* (hex ? 16 : 10) &+ d
                digits += 1
                if value > 0x10FFFF || digits > 8 { throw fail(.malformedXML, at) }
                i += 1
            }
            guard i < end else { throw fail(.truncated, end) }
            let valid =
                digits > 0
                && (value == 0x9 || value == 0xA || value == 0xD || (value >= 0x20 && value <= 0xD7FF)
                    || (value >= 0xE000 && value <= 0xFFFD) || value >= 0x10000)
            guard valid else { throw fail(.malformedXML, at) }
            i += 1
            return
        }
        let nameStart = i
        guard Self.isNameStart(b[i]) else { throw fail(.malformedXML, at) }
        while i < end, Self.isNameChar(b[i]) { i += 1 }
        guard i < end else { throw fail(.truncated, end) }
        guard b[i] == 0x3B else { throw fail(.malformedXML, at) }
        let n = i - nameStart
        i += 1
        let known =
            (n == 2 && (hasPrefix("lt", at: nameStart) || hasPrefix("gt", at: nameStart)))
            || (n == 3 && hasPrefix("amp", at: nameStart))
            || (n == 4 && (hasPrefix("quot", at: nameStart) || hasPrefix("apos", at: nameStart)))
        if !known && !lenient { throw XMLScanIssue.unsupported(at) }
    }

    /// One UTF-8 sequence starting at `i` (a byte ≥ 0x80).
    private mutating func scanUTF8() throws(XMLScanIssue) {
        let c = b[i]
        let n: Int
        var scalar: UInt32
        switch c {
        case 0xC2...0xDF: n = 2; scalar = UInt32(c & 0x1F)
        case 0xE0...0xEF: n = 3; scalar = UInt32(c & 0x0F)
        case 0xF0...0xF4: n = 4; scalar = UInt32(c & 0x07)
        default: throw fail(.invalidUTF8, i)
        }
        guard i + n <= end else { throw fail(.truncated, end) }
        for k in 1..<n {
            let cc = b[i + k]
            guard cc & 0xC0 == 0x80 else { throw fail(.invalidUTF8, i) }
            scalar = scalar << 6 | UInt32(cc & 0x3F)
        }
        let minimum: UInt32 = n == 2 ? 0x80 : (n == 3 ? 0x800 : 0x10000)
        guard scalar >= minimum, scalar <= 0x10FFFF, !(scalar >= 0xD800 && scalar <= 0xDFFF),
            scalar != 0xFFFE, scalar != 0xFFFF
        else { throw fail(.invalidUTF8, i) }
        i += n
    }

    // MARK: Declarations, PIs, comments

    private mutating func scanPI() throws(XMLScanIssue) {
        let at = i
        // Fast path: the declaration almost every message starts with, spelt exactly so (the full check below
        // accepts it too, with the same result).
        if at == 0, !fragment, end >= 38, Self.equalBytes(b.baseAddress!, Self.commonDeclaration.utf8Start, 30) {
            let v = b.baseAddress! + 30
            if Self.equalBytes(v, Self.commonDeclarationTail.utf8Start, 8)
                || Self.equalBytes(v, Self.commonDeclarationTailLower.utf8Start, 8)
            {
                i = 38
                return
            }
        }
        i += 2
        let targetStart = i
        _ = try scanName()
        let targetCount = i - targetStart
        guard let close = find("?>", from: i) else { throw fail(.truncated, end) }
        let isXML =
            targetCount == 3 && (b[targetStart] | 0x20) == 0x78 && (b[targetStart + 1] | 0x20) == 0x6D
            && (b[targetStart + 2] | 0x20) == 0x6C
        if isXML {
            // The declaration: only at the very start (after a UTF-8 BOM), and only with a lower-case target.
            let startOK = at == 0 || (at == 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF)
            guard startOK, !fragment, hasPrefix("xml", at: targetStart) else { throw fail(.malformedXML, at) }
            let supported = try declaration(from: i, to: close)
            if !lenient, !supported { throw XMLScanIssue.unsupported(at) }
        } else if targetCount > 0, i < close, !Self.isSpace(b[i]) {
            throw fail(.malformedXML, i)
        }
        i = close + 2
    }

    /// Checks the declaration's pseudo-attributes (`version`, then optional `encoding` and `standalone`, in that order)
    /// between `start` (after the target) and `close` (the `?>`); returns whether the encoding is UTF-8 or ASCII.
    private func declaration(from start: Int, to close: Int) throws(XMLScanIssue) -> Bool {
        var j = start
        var order = -1
        var supported = true
        while true {
            let spaceStart = j
            while j < close, Self.isSpace(b[j]) { j += 1 }
            if j == close { break }
            guard j > spaceStart else { throw fail(.malformedXML, j) }
            let nameStart = j
            while j < close, (b[j] | 0x20) >= 0x61, (b[j] | 0x20) <= 0x7A { j += 1 }
            let which: Int
            if j - nameStart == 7 && hasPrefix("version", at: nameStart) {
                which = 0
            } else if j - nameStart == 8 && hasPrefix("encoding", at: nameStart) {
                which = 1
            } else if j - nameStart == 10 && hasPrefix("standalone", at: nameStart) {
                which = 2
            } else {
                throw fail(.malformedXML, nameStart)
            }
            guard which > order, order >= 0 || which == 0 else { throw fail(.malformedXML, nameStart) }
            order = which
            while j < close, Self.isSpace(b[j]) { j += 1 }
            guard j < close, b[j] == 0x3D else { throw fail(.malformedXML, j) }
            j += 1
            while j < close, Self.isSpace(b[j]) { j += 1 }
            guard j < close, b[j] == 0x22 || b[j] == 0x27 else { throw fail(.malformedXML, j) }
            let quote = b[j]
            j += 1
            let valueStart = j
            while j < close, b[j] != quote { j += 1 }
            guard j < close else { throw fail(.malformedXML, j) }
            let n = j - valueStart
            j += 1
            switch which {
            case 0:
                guard n >= 3, b[valueStart] == 0x31, b[valueStart + 1] == 0x2E else { throw fail(.malformedXML, valueStart) }
                for k in (valueStart + 2)..<(valueStart + n) where b[k] < 0x30 || b[k] > 0x39 {
                    throw fail(.malformedXML, k)
                }
            case 1:
                guard n > 0, (b[valueStart] | 0x20) >= 0x61, (b[valueStart] | 0x20) <= 0x7A else {
                    throw fail(.malformedXML, valueStart)
                }
                for k in valueStart..<(valueStart + n) {
                    let c = b[k]
                    let ok = ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x2E
                        || c == 0x5F || c == 0x2D
                    guard ok else { throw fail(.malformedXML, k) }
                }
                func equalsLower(_ s: StaticString) -> Bool {
                    guard n == s.utf8CodeUnitCount else { return false }
                    for k in 0..<n where (b[valueStart + k] | 0x20) != (s.utf8Start[k] | 0x20) { return false }
                    return true
                }
                supported = equalsLower("utf-8") || equalsLower("utf8") || equalsLower("us-ascii") || equalsLower("ascii")
            default:
                let yes = n == 3 && hasPrefix("yes", at: valueStart)
                let no = n == 2 && hasPrefix("no", at: valueStart)
                guard yes || no else { throw fail(.malformedXML, valueStart) }
            }
        }
        guard order >= 0 else { throw fail(.malformedXML, start) }
        return supported
    }

    private mutating func skipComment() throws(XMLScanIssue) {
        guard let close = find("--", from: i + 4) else { throw fail(.truncated, end) }
        guard close + 2 < end else { throw fail(.truncated, end) }
        guard b[close + 2] == 0x3E else { throw fail(.malformedXML, close) }  // "--" inside a comment
        i = close + 3
    }

    /// Lenient mode only: skips `<!DOCTYPE …>` including an internal subset.
    private mutating func skipDoctype() throws(XMLScanIssue) {
        var bracket = 0
        var quote: UInt8 = 0
        i += 9
        while i < end {
            let c = b[i]
            i += 1
            if quote != 0 {
                if c == quote { quote = 0 }
            } else if c == 0x22 || c == 0x27 {
                quote = c
            } else if c == 0x5B {
                bracket += 1
            } else if c == 0x5D {
                bracket -= 1
            } else if c == 0x3E && bracket <= 0 {
                return
            }
        }
        throw fail(.truncated, end)
    }

    // MARK: Byte helpers

    static let commonDeclaration: StaticString = "<?xml version=\"1.0\" encoding=\""
    static let commonDeclarationTail: StaticString = "UTF-8\"?>"
    static let commonDeclarationTailLower: StaticString = "utf-8\"?>"

    @inline(__always) func hasPrefix(_ s: StaticString, at j: Int) -> Bool {
        let n = s.utf8CodeUnitCount
        guard j >= 0, j + n <= end else { return false }
        return memcmp(b.baseAddress! + j, s.utf8Start, n) == 0
    }

    func find(_ s: StaticString, from j: Int) -> Int? {
        let n = s.utf8CodeUnitCount
        var k = j
        let first = s.utf8Start[0]
        while k + n <= end {
            if b[k] == first && memcmp(b.baseAddress! + k, s.utf8Start, n) == 0 { return k }
            k += 1
        }
        return nil
    }
}
