import CSTA
import NIOCore

/// Hex dumps, line by line:
/// - one message per line (`a1 0c 02 01 …` or `a10c0201…`), `#` comment lines, blank lines;
/// - offset-prefixed dumps (`0000: 26 80 12 …`, `0010  …`): a message runs over the lines whose offsets continue the
///   previous line's and ends at an offset that does not (usually `0000`), a blank line, a comment or a plain line.
///   A trailing ASCII column is dropped: parsing stops at the first token that is not hex, and a line is cut to the
///   gap to the next line's offset.
/// Each message may carry a frame header (`26 80 12` HiPath, u16, TPKT, ECMA-323) or none; a fresh
/// ``CSTAFrameSplitter`` with the framing asked for (`auto` by default) takes it apart.
struct HexDumpReader {
    struct Line {
        var offset: Int?
        var bytes: [UInt8]
    }

    /// A line as hex, or `nil` when it is blank or a comment. Throws for a line that is not hex at all.
    static func parse(_ line: UnsafeRawBufferPointer) throws(HexError) -> Line? {
        var tokens: [UnsafeRawBufferPointer] = []
        var i = 0
        while i < line.count {
            while i < line.count, isSpace(line[i]) { i += 1 }
            let start = i
            while i < line.count, !isSpace(line[i]) { i += 1 }
            if i > start { tokens.append(UnsafeRawBufferPointer(rebasing: line[start..<i])) }
        }
        guard let first = tokens.first, first[0] != UInt8(ascii: "#") else { return nil }
        var offset: Int?
        var rest = tokens[...]
        if first.count >= 2, first[first.count - 1] == UInt8(ascii: ":"),
            let value = number(UnsafeRawBufferPointer(rebasing: first[0..<(first.count - 1)]))
        {
            offset = value
            rest = tokens.dropFirst()
        } else if (4...8).contains(first.count), tokens.count > 1, tokens[1].count == 2, isHexToken(tokens[1]),
            let value = number(first)
        {
            offset = value
            rest = tokens.dropFirst()
        }
        var bytes: [UInt8] = []
        for token in rest {
            guard token.count % 2 == 0, isHexToken(token) else {
                if offset != nil || !bytes.isEmpty { break } // an ASCII column
                throw HexError(column: 0)
            }
            var k = 0
            while k < token.count {
                bytes.append(nibble(token[k])! << 4 | nibble(token[k + 1])!)
                k += 2
            }
        }
        if bytes.isEmpty && offset == nil { throw HexError(column: 0) }
        return Line(offset: offset, bytes: bytes)
    }

    struct HexError: Error {
        var column: Int
    }

    /// Accumulates offset-prefixed lines into messages. A message carries the stamp (time, direction) of its first line.
    struct Assembler {
        typealias Message = (bytes: [UInt8], fileOffset: Int64, stamp: TextStamp)
        private var bytes: [UInt8] = []
        private var base = 0
        private var lastOffset = 0
        private var open = false
        private var startFileOffset: Int64 = 0
        private var stamp = TextStamp.none

        /// Feeds one parsed line (nil: a blank or comment line); appends the messages it completes to `out`.
        mutating func add(_ line: Line?, fileOffset: Int64, stamp: TextStamp = .none, into out: inout [Message]) {
            guard let line else { return flush(into: &out) }
            guard let offset = line.offset else {
                flush(into: &out)
                out.append((line.bytes, fileOffset, stamp)) // a plain line is a message of its own
                return
            }
            if open, offset > lastOffset, offset <= base + bytes.count {
                bytes.removeLast(base + bytes.count - offset) // an ASCII column misread as hex
                bytes.append(contentsOf: line.bytes)
                lastOffset = offset
                return
            }
            flush(into: &out)
            (bytes, base, lastOffset, open, startFileOffset) = (line.bytes, offset, offset, true, fileOffset)
            self.stamp = stamp
        }

        mutating func flush(into out: inout [Message]) {
            guard open else { return }
            open = false
            out.append((bytes, startFileOffset, stamp))
            bytes = []
        }
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }

    static func nibble(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: b - 0x30
        case 0x41...0x46: b - 0x41 + 10
        case 0x61...0x66: b - 0x61 + 10
        default: nil
        }
    }

    static func isHexToken(_ t: UnsafeRawBufferPointer) -> Bool { t.allSatisfy { nibble($0) != nil } }

    static func number(_ t: UnsafeRawBufferPointer) -> Int? {
        guard !t.isEmpty, t.count <= 12 else { return nil }
        var v = 0
        for b in t {
            guard let n = nibble(b) else { return nil }
            v = v << 4 | Int(n)
        }
        return v
    }

    /// Splits one message's bytes into frames (a header, when there is one, is removed).
    static func frames(
        _ message: [UInt8], framing: CSTAFraming, encoding: CSTAEncoding?, maximumPayloadLength: Int,
        _ body: (Result<(ByteBuffer, CSTAFraming, CSTAEncoding, Int64?), CSTADecodeError>) -> Void
    ) {
        var splitter = CSTAFrameSplitter(framing: framing, encoding: encoding, maximumPayloadLength: maximumPayloadLength)
        let buffer = ByteBuffer(bytes: message)
        var position = 0
        while position < message.count {
            let step = buffer.withUnsafeReadableBytes {
                splitter.next(UnsafeRawBufferPointer(rebasing: $0[position...]), atEnd: true)
            }
            switch step {
            case .needMoreData:
                return
            case .skip(let count, let error):
                position += max(1, count)
                if let error { body(.failure(error)) }
            case .frame(let header, let length, let consumed, let invokeId):
                let payload = buffer.getSlice(at: position + header, length: length) ?? ByteBuffer()
                position += max(1, consumed)
                body(.success((payload, splitter.framing, splitter.encoding ?? .ber, invokeId)))
            }
        }
    }
}
