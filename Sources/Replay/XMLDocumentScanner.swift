/// Finds where an XML document ends — when its root element closes — in bytes that arrive a line at a time.
///
/// Not a parser: it tracks tags, quoted attribute values, comments, CDATA sections, processing instructions and
/// declarations only as far as needed to count element depth, so a `>` or `</` inside a comment, CDATA section or
/// attribute value does not end the document. Whatever the bytes, it never traps; a malformed document ends where the
/// depth says, and the decoder reports what is wrong with it.
struct XMLDocumentScanner {
    private enum State {
        case text, startTag, endTag, processingInstruction, comment, cdata, declaration
    }

    private var state = State.text
    private var depth = 0
    private var quote: UInt8 = 0
    /// The last byte of a start tag before its `>` (a `/` makes it an empty element).
    private var previous: UInt8 = 0
    /// Nesting of `[ ]` inside a `<!DOCTYPE …>`.
    private var brackets = 0
    /// Where to go on in the document's bytes.
    private(set) var position = 0

    /// Scans `document` from where the last call stopped; returns the index just past the `>` that closes the root
    /// element, or `nil` when the document goes on (or a construct's first bytes need more input to be told apart).
    mutating func scan(_ document: UnsafeRawBufferPointer) -> Int? {
        var i = position
        defer { position = i }
        while i < document.count {
            let c = document[i]
            switch state {
            case .text:
                guard c == UInt8(ascii: "<") else { break }
                let rest = document.count - i - 1
                guard rest >= 1 else { return nil } // wait for the byte that says what this is
                switch document[i + 1] {
                case UInt8(ascii: "?"):
                    state = .processingInstruction
                    i += 1
                case UInt8(ascii: "/"):
                    state = .endTag
                    i += 1
                case UInt8(ascii: "!"):
                    if matches(document, i, "<!--") {
                        state = .comment
                        i += 3
                    } else if matches(document, i, "<![CDATA[") {
                        state = .cdata
                        i += 8
                    } else if rest < 8, isPrefix(document, i, "<![CDATA[") || isPrefix(document, i, "<!--") {
                        return nil
                    } else {
                        state = .declaration
                        brackets = 0
                        i += 1
                    }
                default:
                    state = .startTag
                    previous = 0
                }
            case .startTag:
                if quote != 0 {
                    if c == quote { quote = 0 }
                } else if c == UInt8(ascii: "\"") || c == UInt8(ascii: "'") {
                    quote = c
                } else if c == UInt8(ascii: ">") {
                    state = .text
                    if previous == UInt8(ascii: "/") {
                        if depth == 0 { // the root is an empty element
                            i += 1
                            return i
                        }
                    } else {
                        depth += 1
                    }
                } else if !isSpace(c) {
                    previous = c
                }
            case .endTag:
                if c == UInt8(ascii: ">") {
                    state = .text
                    depth -= 1
                    if depth <= 0 {
                        depth = 0
                        i += 1
                        return i
                    }
                }
            case .processingInstruction:
                if c == UInt8(ascii: ">"), i >= 1, document[i - 1] == UInt8(ascii: "?") { state = .text }
            case .comment:
                if c == UInt8(ascii: ">"), endsWith(document, i, UInt8(ascii: "-")) { state = .text }
            case .cdata:
                if c == UInt8(ascii: ">"), endsWith(document, i, UInt8(ascii: "]")) { state = .text }
            case .declaration:
                if c == UInt8(ascii: "[") {
                    brackets += 1
                } else if c == UInt8(ascii: "]") {
                    brackets = max(0, brackets - 1)
                } else if c == UInt8(ascii: ">"), brackets == 0 {
                    state = .text
                }
            }
            i += 1
        }
        return nil
    }

    /// Bytes that may be dropped from the front of the document: all but the last two before `position` (a `-->`,
    /// `]]>` or `?>` looks back two bytes). For a document too long to keep, scanned and dropped as it goes.
    var discardable: Int { max(0, position - 2) }

    /// The caller removed `count` (at most ``discardable``) bytes from the document's front.
    mutating func discard(_ count: Int) {
        position = max(0, position - count)
    }

    /// The two bytes before `i` are both `c` (`-->`, `]]>`).
    private func endsWith(_ b: UnsafeRawBufferPointer, _ i: Int, _ c: UInt8) -> Bool {
        i >= 2 && b[i - 1] == c && b[i - 2] == c
    }

    private func matches(_ b: UnsafeRawBufferPointer, _ i: Int, _ s: StaticString) -> Bool {
        let n = s.utf8CodeUnitCount
        guard i + n <= b.count else { return false }
        return s.withUTF8Buffer { p in (0..<n).allSatisfy { b[i + $0] == p[$0] } }
    }

    /// The bytes from `i` to the end are the start of `s`.
    private func isPrefix(_ b: UnsafeRawBufferPointer, _ i: Int, _ s: StaticString) -> Bool {
        let n = min(b.count - i, s.utf8CodeUnitCount)
        return s.withUTF8Buffer { p in (0..<n).allSatisfy { b[i + $0] == p[$0] } }
    }

    @inline(__always) private func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A }
}
