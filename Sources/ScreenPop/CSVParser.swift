import Foundation

/// One record of a CSV file.
public struct CSVRecord: Sendable, Hashable {
    /// The line of the file the record starts on (1-based; a quoted field may continue it over several lines).
    public var line: Int
    public var fields: [String]
    /// Why the record could not be read (a stray or unterminated quote, invalid UTF-8, too long); `fields` are then
    /// what was read before the problem.
    public var problem: String?
}

/// An incremental RFC 4180 parser: feed it bytes as they are read and it hands out records as soon as they are
/// complete, so a file of any size is parsed in constant memory (one record at a time, at most
/// `maximumRecordBytes`).
///
/// Accepts quoted fields with doubled quotes, commas and line breaks inside quotes, LF, CRLF and CR line ends, and a
/// UTF-8 byte-order mark; skips blank lines. A malformed record is handed out with its ``CSVRecord/problem`` and
/// parsing continues on the next line.
public struct CSVParser: Sendable {
    private enum State {
        case fieldStart, unquoted, quoted, quoteInQuoted, skipping
    }

    public let maximumRecordBytes: Int
    private var state = State.fieldStart
    private var field: [UInt8] = []
    private var fields: [String] = []
    private var problem: String?
    private var line = 1
    private var recordLine = 1
    private var quoteLine = 1
    private var recordBytes = 0
    /// A CR ended the last record: a LF right after it belongs to the same line end.
    private var afterCR = false
    /// The first bytes, held back until it is clear whether they are a byte-order mark.
    private var pendingStart: [UInt8]? = []

    private static let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
    private static let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), lf = UInt8(ascii: "\n"),
        cr = UInt8(ascii: "\r")

    public init(maximumRecordBytes: Int = 1 << 20) {
        self.maximumRecordBytes = max(64, maximumRecordBytes)
    }

    /// Parses `bytes`, calling `emit` for every record completed by them.
    public mutating func feed(_ bytes: some Sequence<UInt8>, _ emit: (CSVRecord) throws -> Void) rethrows {
        for byte in bytes {
            if var start = pendingStart {
                start.append(byte)
                if start.count < Self.bom.count, Self.bom.starts(with: start) {
                    pendingStart = start
                    continue
                }
                pendingStart = nil
                if start != Self.bom { for held in start { try consume(held, emit) } }
                continue
            }
            try consume(byte, emit)
        }
    }

    /// Ends the input: hands out the last record (one without a final line break, or one left open by an
    /// unterminated quote).
    public mutating func finish(_ emit: (CSVRecord) throws -> Void) rethrows {
        if let start = pendingStart {
            pendingStart = nil
            for held in start { try consume(held, emit) }
        }
        switch state {
        case .quoted:
            problem = problem ?? "unterminated quote (opened on line \(quoteLine))"
            try endRecord(emit)
        case .skipping, .unquoted, .quoteInQuoted:
            try endRecord(emit)
        case .fieldStart:
            // "a,b," at the very end: the comma opened a last, empty field.
            if !fields.isEmpty {
                endField()
                try endRecord(emit)
            }
        }
    }

    private mutating func consume(_ byte: UInt8, _ emit: (CSVRecord) throws -> Void) rethrows {
        if afterCR {
            afterCR = false
            if byte == Self.lf { return }
        }
        if state == .fieldStart && fields.isEmpty && field.isEmpty { recordLine = line }
        recordBytes += 1
        if recordBytes > maximumRecordBytes, state != .skipping {
            fail("record longer than \(maximumRecordBytes) bytes" + (state == .quoted ? " (unterminated quote?)" : ""))
        }
        switch state {
        case .fieldStart:
            switch byte {
            case Self.quote:
                state = .quoted
                quoteLine = line
            case Self.comma: endField()
            case Self.lf, Self.cr:
                endField()
                try endLine(byte, emit)
            default:
                field.append(byte)
                state = .unquoted
            }
        case .unquoted:
            switch byte {
            case Self.comma: endField()
            case Self.lf, Self.cr:
                endField()
                try endLine(byte, emit)
            case Self.quote: fail("quote inside an unquoted field (field \(fields.count + 1))")
            default: field.append(byte)
            }
        case .quoted:
            if byte == Self.quote {
                state = .quoteInQuoted
            } else {
                if byte == Self.lf { line += 1 }
                field.append(byte)
            }
        case .quoteInQuoted:
            switch byte {
            case Self.quote:
                field.append(byte)
                state = .quoted
            case Self.comma: endField()
            case Self.lf, Self.cr:
                endField()
                try endLine(byte, emit)
            default: fail("text after a closing quote (field \(fields.count + 1))")
            }
        case .skipping:
            if byte == Self.lf || byte == Self.cr { try endLine(byte, emit) }
        }
    }

    private mutating func fail(_ reason: String) {
        if problem == nil { problem = reason }
        field.removeAll(keepingCapacity: true)
        state = .skipping
    }

    private mutating func endField() {
        if let text = String(bytes: field, encoding: .utf8) {
            fields.append(text)
        } else {
            if problem == nil { problem = "not valid UTF-8 (field \(fields.count + 1))" }
            fields.append(String(decoding: field, as: UTF8.self))
        }
        field.removeAll(keepingCapacity: true)
        state = .fieldStart
    }

    private mutating func endLine(_ byte: UInt8, _ emit: (CSVRecord) throws -> Void) rethrows {
        afterCR = byte == Self.cr
        try endRecord(emit)
        line += 1
    }

    private mutating func endRecord(_ emit: (CSVRecord) throws -> Void) rethrows {
        if state == .unquoted || state == .quoteInQuoted || state == .quoted { endField() }
        let record = CSVRecord(line: recordLine, fields: fields, problem: problem)
        fields.removeAll(keepingCapacity: true)
        field.removeAll(keepingCapacity: true)
        problem = nil
        state = .fieldStart
        recordBytes = 0
        recordLine = line + 1
        // A blank line is one empty field: not a record.
        if record.problem == nil && record.fields.count == 1 && record.fields[0].isEmpty { return }
        try emit(record)
    }
}
