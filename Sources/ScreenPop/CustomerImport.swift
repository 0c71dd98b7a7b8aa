import Foundation
import Logging
import Store

/// What a customer import did: rows imported and rejected, and why each rejected row was (by line).
public struct CustomerImportReport: Sendable, Hashable, Codable {
    public struct RowIssue: Sendable, Hashable, Codable {
        public var line: Int
        public var reason: String

        public init(line: Int, reason: String) {
            self.line = line
            self.reason = reason
        }
    }

    public var imported = 0
    public var rejected = 0
    /// The rejected rows (the first ``CustomerImporter/maximumReportedIssues``; the rest are only counted).
    public var errors: [RowIssue] = []
    public var errorsOmitted = 0
    /// Imported rows with something dropped (a number that is no phone number).
    public var warnings: [RowIssue] = []
    /// Header columns that are not customer fields; their values are ignored.
    public var unknownColumns: [String] = []
    /// Nothing was written.
    public var dryRun = false

    public init() {}
}

/// Why a file could not be imported at all.
public enum CustomerImportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file cannot be opened or read.
    case unreadable(String)
    /// No header row, or one without the required columns.
    case badHeader(String)

    public var description: String {
        switch self {
        case .unreadable(let message): message
        case .badHeader(let message): "bad header: \(message)"
        }
    }
}

/// Imports customers from CSV (columns `account_number,name,address,meter,arrears,tags,numbers`, any order, names
/// case-insensitive): streamed in chunks and stored in transactions of ``batchSize`` customers, so the file's size
/// does not matter. Bad rows are skipped and reported by line; a customer already in the store (same account number)
/// is updated, its numbers replaced.
public struct CustomerImporter: Sendable {
    public static let columns = ["account_number", "name", "address", "meter", "arrears", "tags", "numbers"]
    public static let requiredColumns = ["account_number", "numbers"]
    public static let maximumReportedIssues = 1000

    /// Where customers go; `nil` for a dry run that only validates.
    public let store: CTIStore?
    public let rules: PhoneNumberRules
    public let batchSize: Int
    private let logger: Logger

    public init(store: CTIStore?, rules: PhoneNumberRules = PhoneNumberRules(), batchSize: Int = 1000, logger: Logger) {
        self.store = store
        self.rules = rules
        self.batchSize = max(1, batchSize)
        self.logger = logger
    }

    /// Imports the CSV file at `path`. `progress` is called after every chunk read with the bytes read so far and the
    /// rows seen so far.
    ///
    /// - Throws: ``CustomerImportError`` when the file cannot be read or has no usable header; a store error when a
    ///   batch cannot be written (the batches before it stay imported).
    public func importFile(
        atPath path: String, progress: (_ bytes: Int64, _ rows: Int) -> Void = { _, _ in }
    ) throws -> CustomerImportReport {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw CustomerImportError.unreadable("cannot open \(path)")
        }
        defer { try? handle.close() }
        var run = ImportRun(importer: self)
        var parser = CSVParser()
        var bytes: Int64 = 0
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 1 << 20) } catch {
                throw CustomerImportError.unreadable("cannot read \(path): \(error)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            bytes += Int64(chunk.count)
            try parser.feed(chunk) { try run.take($0) }
            try run.flushIfFull()
            progress(bytes, run.rows)
        }
        try parser.finish { try run.take($0) }
        return try run.finish()
    }

    /// Imports CSV text (for tests and small inputs).
    public func importText(_ text: String) throws -> CustomerImportReport {
        var run = ImportRun(importer: self)
        var parser = CSVParser()
        try parser.feed(Array(text.utf8)) { try run.take($0) }
        try parser.finish { try run.take($0) }
        return try run.finish()
    }

    fileprivate func write(_ batch: [StoredCustomer]) throws {
        guard let store, !batch.isEmpty else { return }
        try store.upsertCustomers(batch)
        logger.debug("customers imported", metadata: ["batch": "\(batch.count)"])
    }
}

/// The state of one import: the header's column positions, the account numbers seen (duplicates within the file are
/// rejected), the batch being filled and the report.
private struct ImportRun {
    let importer: CustomerImporter
    var columnIndex: [String: Int]?
    var headerWidth = 0
    /// Account number → the line it was first imported from.
    var seen: [String: Int] = [:]
    var batch: [StoredCustomer] = []
    var report = CustomerImportReport()
    var rows = 0

    init(importer: CustomerImporter) {
        self.importer = importer
        report.dryRun = importer.store == nil
    }

    mutating func take(_ record: CSVRecord) throws {
        guard let columnIndex else { return try readHeader(record) }
        rows += 1
        switch customer(from: record, columnIndex) {
        case .success(let customer):
            seen[customer.accountNumber] = record.line
            batch.append(customer)
            report.imported += 1
            if batch.count >= importer.batchSize { try flush() }
        case .failure(let issue):
            report.rejected += 1
            if report.errors.count < CustomerImporter.maximumReportedIssues {
                report.errors.append(.init(line: record.line, reason: issue.reason))
            } else {
                report.errorsOmitted += 1
            }
        }
    }

    mutating func flushIfFull() throws {
        if batch.count >= importer.batchSize { try flush() }
    }

    mutating func finish() throws -> CustomerImportReport {
        if columnIndex == nil { throw CustomerImportError.badHeader("the file is empty (a header row is required)") }
        try flush()
        return report
    }

    private mutating func flush() throws {
        try importer.write(batch)
        batch.removeAll(keepingCapacity: true)
    }

    private mutating func readHeader(_ record: CSVRecord) throws {
        if let problem = record.problem { throw CustomerImportError.badHeader("line \(record.line): \(problem)") }
        var index: [String: Int] = [:]
        for (position, raw) in record.fields.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces).lowercased()
            guard CustomerImporter.columns.contains(name) else {
                report.unknownColumns.append(raw)
                continue
            }
            guard index[name] == nil else { throw CustomerImportError.badHeader("column '\(name)' appears twice") }
            index[name] = position
        }
        let missing = CustomerImporter.requiredColumns.filter { index[$0] == nil }
        guard missing.isEmpty else {
            throw CustomerImportError.badHeader(
                "missing column\(missing.count == 1 ? "" : "s") \(missing.joined(separator: ", ")) (expected "
                    + CustomerImporter.columns.joined(separator: ",") + ")")
        }
        columnIndex = index
        headerWidth = record.fields.count
    }

    private struct RowIssue: Error {
        var reason: String
    }

    private mutating func customer(from record: CSVRecord, _ columns: [String: Int]) -> Result<StoredCustomer, RowIssue> {
        if let problem = record.problem { return .failure(RowIssue(reason: problem)) }
        if record.fields.count > headerWidth {
            return .failure(RowIssue(reason: "\(record.fields.count) fields, the header has \(headerWidth)"))
        }
        // A short row (trailing empty fields left out by some exporters) reads the missing fields as empty.
        func value(_ column: String) -> String {
            guard let position = columns[column], position < record.fields.count else { return "" }
            return record.fields[position].trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let account = value("account_number")
        guard !account.isEmpty else { return .failure(RowIssue(reason: "missing account number")) }

        let rawNumbers = Self.list(value("numbers"))
        guard !rawNumbers.isEmpty else { return .failure(RowIssue(reason: "no number")) }
        var numbers: [String] = []
        var unparseable: [String] = []
        for raw in rawNumbers {
            if let number = importer.rules.normalize(raw) {
                if !numbers.contains(number) { numbers.append(number) }
            } else {
                unparseable.append(raw)
            }
        }
        guard !numbers.isEmpty else {
            return .failure(RowIssue(reason: "no valid number (\(rawNumbers.joined(separator: "; ")))"))
        }

        var arrears: Int64?
        let arrearsText = value("arrears")
        if !arrearsText.isEmpty {
            guard let minor = MinorUnits.parse(arrearsText) else {
                return .failure(RowIssue(reason: "bad arrears '\(arrearsText)'"))
            }
            arrears = minor
        }
        if let first = seen[account] {
            return .failure(RowIssue(reason: "duplicate account number \(account) (first on line \(first))"))
        }
        if !unparseable.isEmpty, report.warnings.count < CustomerImporter.maximumReportedIssues {
            report.warnings.append(
                .init(line: record.line, reason: "skipped numbers that are no phone numbers: \(unparseable.joined(separator: "; "))"))
        }
        let address = value("address"), meter = value("meter")
        return .success(
            StoredCustomer(
                customerID: CustomerDirectory.customerID(accountNumber: account), accountNumber: account,
                name: value("name"), address: address.isEmpty ? nil : address, meter: meter.isEmpty ? nil : meter,
                arrearsMinor: arrears, tags: Self.list(value("tags")), numbers: numbers))
    }

    /// `a; b|c` → `["a", "b", "c"]`.
    private static func list(_ text: String) -> [String] {
        text.split(whereSeparator: { $0 == ";" || $0 == "|" })
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}
