/// Hex dumps and XML logs, with or without a trace-log prefix on each line, a line at a time → messages.
///
/// - A line is `[prefix] payload`; the prefix (``TraceLinePrefix``) gives the message its time and direction. A prefix
///   alone on its line stamps the lines that follow until the next prefix or a blank line (a header line before a
///   dump).
/// - A payload starting with `<` is XML: a document runs until its root element closes, over as many lines as it
///   takes (pretty-printed); continuation lines lose the same kind of prefix when the first line had one. Several
///   documents may share a line. An open document is given up (an error at its first byte) when a line starts a new one
///   with `<?xml`, when a prefixed line says the other direction, at `maximumDocument` bytes (then skipped to its end)
///   or at the end of the input.
/// - Any other payload is hex (``HexDumpReader``); a line that is neither is a `.malformedText` error at its offset.
struct TextLogAssembler {
    enum Item {
        case hex(HexDumpReader.Assembler.Message)
        case xml(bytes: [UInt8], fileOffset: Int64, stamp: TextStamp)
        case error(ReplayError)
    }

    let maximumDocument: Int
    private var hex = HexDumpReader.Assembler()
    private var hexMessages: [HexDumpReader.Assembler.Message] = []
    /// A prefix alone on its line: the stamp of the lines that follow.
    private var headerStamp: TextStamp?

    // The XML document being read.
    private var document: [UInt8] = []
    private var documentOpen = false
    private var documentOffset: Int64 = 0
    private var documentStamp = TextStamp.none
    private var documentPrefixed = false
    /// Past `maximumDocument`: scanned to its end and dropped.
    private var dropping = false
    private var scanner = XMLDocumentScanner()
    /// Where the latest line's payload starts in `document`, and its file offset (for what follows the root's end).
    private var lineBase = 0
    private var lineFileOffset: Int64 = 0

    init(maximumDocument: Int) {
        self.maximumDocument = maximumDocument
    }

    /// One line without its newline, and the file offset of its first byte.
    mutating func add(_ raw: UnsafeRawBufferPointer, at offset: Int64, into out: inout [Item]) {
        var line = raw
        var offset = offset
        if let last = line.last, last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
        if line.starts(with: [0xEF, 0xBB, 0xBF]) { // a UTF-8 byte order mark (files joined into one log: any line)
            line = UnsafeRawBufferPointer(rebasing: line.dropFirst(3))
            offset += 3
        }
        let prefix = TraceLinePrefix.parse(line)
        if documentOpen {
            var content = line
            var at = offset
            if documentPrefixed, let prefix {
                content = UnsafeRawBufferPointer(rebasing: line[prefix.length...])
                at += Int64(prefix.length)
            }
            let otherDirection = documentPrefixed && prefix.map {
                $0.direction != .unknown && documentStamp.direction != .unknown && $0.direction != documentStamp.direction
            } ?? false
            if otherDirection || startsWithDeclaration(content) {
                abandon("an XML document not closed before the next message", &out)
            } else {
                continueDocument(content, at: at, &out)
                return
            }
        }
        var stamp = headerStamp ?? .none
        var content = line
        var at = offset
        if let prefix {
            stamp = prefix.stamp
            content = UnsafeRawBufferPointer(rebasing: line[prefix.length...])
            at += Int64(prefix.length)
        }
        let start = firstNonSpace(content)
        if start == content.count { // blank, or a prefix alone
            headerStamp = prefix == nil ? nil : stamp
            hex.add(nil, fileOffset: offset, into: &hexMessages)
            drainHex(&out)
            return
        }
        if prefix != nil { headerStamp = nil } // a prefix of its own ends a header's reach
        if content[start] == UInt8(ascii: "<") {
            hex.flush(into: &hexMessages)
            drainHex(&out)
            startDocuments(UnsafeRawBufferPointer(rebasing: content[start...]), at: at + Int64(start), stamp: stamp,
                           prefixed: prefix != nil, &out)
            return
        }
        do throws(HexDumpReader.HexError) {
            hex.add(try HexDumpReader.parse(content), fileOffset: offset, stamp: stamp, into: &hexMessages)
        } catch {
            let what = prefix == nil ? "neither hex, XML nor a known trace-log prefix" : "not hex or XML after the prefix"
            out.append(.error(ReplayError(.malformedText, at: offset, what)))
        }
        drainHex(&out)
    }

    /// The input ended.
    mutating func finish(into out: inout [Item]) {
        if documentOpen { abandon("an XML document not closed at the end of the input", &out) }
        hex.flush(into: &hexMessages)
        drainHex(&out)
    }

    /// `bytes` start with `<`: one document or more, the last of which may go on over the next lines.
    private mutating func startDocuments(
        _ bytes: UnsafeRawBufferPointer, at offset: Int64, stamp: TextStamp, prefixed: Bool, _ out: inout [Item]
    ) {
        (documentOpen, documentOffset, documentStamp, documentPrefixed) = (true, offset, stamp, prefixed)
        (document, dropping, scanner) = ([], false, XMLDocumentScanner())
        lineBase = 0
        lineFileOffset = offset
        document.append(contentsOf: bytes)
        scanDocument(&out)
    }

    private mutating func continueDocument(_ content: UnsafeRawBufferPointer, at offset: Int64, _ out: inout [Item]) {
        document.append(0x0A) // the line break the log had
        lineBase = document.count
        lineFileOffset = offset
        document.append(contentsOf: content)
        scanDocument(&out)
    }

    private mutating func scanDocument(_ out: inout [Item]) {
        let end = document.withUnsafeBytes { scanner.scan($0) }
        guard let end else {
            if !dropping, document.count > maximumDocument {
                dropping = true
                out.append(.error(ReplayError(
                    .malformedText, at: documentOffset, "an XML document longer than \(maximumDocument) bytes, skipped")))
            }
            if dropping { // keep only what the scanner still looks at
                let n = scanner.discardable
                document.removeFirst(n)
                scanner.discard(n)
                lineBase -= n
            }
            return
        }
        if end > maximumDocument, !dropping { // a long line that held it all at once
            out.append(.error(ReplayError(
                .malformedText, at: documentOffset, "an XML document longer than \(maximumDocument) bytes, skipped")))
        } else if !dropping {
            out.append(.xml(bytes: Array(document[0..<end]), fileOffset: documentOffset, stamp: documentStamp))
        }
        documentOpen = false
        // What follows the root's end on the same line: nothing, another document, or stray text.
        let restOffset = lineFileOffset + Int64(end - lineBase)
        let rest = Array(document[end...])
        document = []
        rest.withUnsafeBytes { rest in
            let start = firstNonSpace(rest)
            guard start < rest.count else { return }
            guard rest[start] == UInt8(ascii: "<") else {
                out.append(.error(ReplayError(
                    .malformedText, at: restOffset + Int64(start), "text after an XML document on its line")))
                return
            }
            startDocuments(
                UnsafeRawBufferPointer(rebasing: rest[start...]), at: restOffset + Int64(start), stamp: documentStamp,
                prefixed: documentPrefixed, &out)
        }
    }

    private mutating func abandon(_ detail: String, _ out: inout [Item]) {
        if !dropping { out.append(.error(ReplayError(.malformedText, at: documentOffset, detail))) }
        (documentOpen, document, dropping) = (false, [], false)
    }

    private mutating func drainHex(_ out: inout [Item]) {
        for message in hexMessages { out.append(.hex(message)) }
        hexMessages.removeAll(keepingCapacity: true)
    }

    private func startsWithDeclaration(_ b: UnsafeRawBufferPointer) -> Bool {
        let i = firstNonSpace(b)
        let declaration: [UInt8] = Array("<?xml".utf8)
        return b.count - i >= declaration.count && zip(b[i...], declaration).allSatisfy { $0 == $1 }
    }

    private func firstNonSpace(_ b: UnsafeRawBufferPointer) -> Int {
        var i = 0
        while i < b.count, b[i] == 0x20 || b[i] == 0x09 || b[i] == 0x0D { i += 1 }
        return i
    }
}
