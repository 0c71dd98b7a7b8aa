import CallModel
import Foundation
import GRDB

/// A customer as the store keeps it (the `customers` row and its `customer_numbers`).
public struct StoredCustomer: Sendable, Hashable {
    /// A stable id derived from the account number.
    public var customerID: String
    /// The utility's account number (户号); unique.
    public var accountNumber: String
    public var name: String
    public var address: String?
    public var meter: String?
    /// Amount owed in the currency's minor unit.
    public var arrearsMinor: Int64?
    public var tags: [String]
    /// The customer's numbers, normalized by the caller (the store compares them exactly).
    public var numbers: [String]
    /// When the row was last written; set by the store.
    public var updatedAt: Date?

    public init(
        customerID: String, accountNumber: String, name: String, address: String? = nil, meter: String? = nil,
        arrearsMinor: Int64? = nil, tags: [String] = [], numbers: [String] = [], updatedAt: Date? = nil
    ) {
        self.customerID = customerID
        self.accountNumber = accountNumber
        self.name = name
        self.address = address
        self.meter = meter
        self.arrearsMinor = arrearsMinor
        self.tags = tags
        self.numbers = numbers
        self.updatedAt = updatedAt
    }
}

extension CTIStore {
    /// Migration "v2" (customers part): the customers, their normalized numbers, and an index so calls are found by
    /// the called number as fast as by the calling one (v1 indexed only `calling`).
    static func createCustomerTables(_ db: Database) throws {
        try db.execute(
            sql: """
                -- Customers for screen pops; tags is a JSON array of strings, arrears in minor units (fen, cent).
                CREATE TABLE customers (
                    customer_id TEXT PRIMARY KEY,
                    account_number TEXT UNIQUE NOT NULL,
                    name TEXT NOT NULL,
                    address TEXT,
                    meter TEXT,
                    arrears_minor INTEGER,
                    tags TEXT NOT NULL DEFAULT '[]',
                    updated_at_ms INTEGER NOT NULL
                );

                -- Every number of a customer, normalized (E.164 or an extension). Several customers may share one.
                CREATE TABLE customer_numbers (
                    number TEXT NOT NULL,
                    customer_id TEXT NOT NULL REFERENCES customers(customer_id) ON DELETE CASCADE,
                    PRIMARY KEY (number, customer_id)
                );
                CREATE INDEX customer_numbers_number ON customer_numbers(number);
                CREATE INDEX customer_numbers_customer_id ON customer_numbers(customer_id);

                CREATE INDEX calls_called ON calls(called);
                """
        )
    }

    /// Inserts or updates `customers` (matched by customer id) and replaces each one's numbers, all in one
    /// transaction: a batch is stored whole or not at all.
    public func upsertCustomers(_ customers: [StoredCustomer], at: Date = Date()) throws {
        let rows = try Self.customerRows(customers)
        try write("upsertCustomers") { db in try Self.upsertCustomers(rows, at: at, in: db) }
    }

    /// Inserts or updates `customers` in one transaction, on GRDB's writer queue.
    public func upsertCustomers(_ customers: [StoredCustomer], at: Date = Date()) async throws {
        let rows = try Self.customerRows(customers)
        try await write("upsertCustomers") { db in try Self.upsertCustomers(rows, at: at, in: db) }
    }

    /// The customers with this (normalized) number, by account number.
    public func customers(byNumber number: String) throws -> [StoredCustomer] {
        try read("customers(byNumber:)") { db in try Self.fetchCustomers(db, Self.byNumberSQL, [number]) }
    }

    /// The customers with this (normalized) number, by account number, read on a reader connection.
    public func customers(byNumber number: String) async throws -> [StoredCustomer] {
        try await read("customers(byNumber:)") { db in try Self.fetchCustomers(db, Self.byNumberSQL, [number]) }
    }

    /// The customer with this account number, or `nil`.
    public func customer(accountNumber: String) throws -> StoredCustomer? {
        try read("customer(accountNumber:)") { db in
            try Self.fetchCustomers(db, Self.byAccountSQL, [accountNumber]).first
        }
    }

    /// The customer with this account number, or `nil`.
    public func customer(accountNumber: String) async throws -> StoredCustomer? {
        try await read("customer(accountNumber:)") { db in
            try Self.fetchCustomers(db, Self.byAccountSQL, [accountNumber]).first
        }
    }

    /// How many customers the store holds.
    public func customerCount() throws -> Int {
        try read("customerCount") { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers") ?? 0 }
    }

    /// How many customers the store holds.
    public func customerCount() async throws -> Int {
        try await read("customerCount") { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM customers") ?? 0 }
    }

    /// The newest `limit` calls whose calling or called number is exactly one of `numbers`, newest first.
    ///
    /// Call records keep numbers as the switch wrote them: pass every spelling to look for (ScreenPop's
    /// `PhoneNumberRules.spellings(of:)`), so the match stays an indexed equality.
    public func recentCalls(numbers: [String], limit: Int) throws -> [CallRecord] {
        guard numbers.contains(where: { !$0.isEmpty }), limit > 0 else { return [] }
        return try read("recentCalls") { db in try Self.recentCalls(db, numbers: numbers, limit: limit) }
    }

    /// The newest `limit` calls from or to one of `numbers`, newest first, read on a reader connection.
    public func recentCalls(numbers: [String], limit: Int) async throws -> [CallRecord] {
        guard numbers.contains(where: { !$0.isEmpty }), limit > 0 else { return [] }
        return try await read("recentCalls") { db in try Self.recentCalls(db, numbers: numbers, limit: limit) }
    }

    // MARK: - Implementation

    /// A customer ready to write: its tags already JSON.
    struct CustomerRow: Sendable {
        var customer: StoredCustomer
        var tagsJSON: String
    }

    private static func customerRows(_ customers: [StoredCustomer]) throws -> [CustomerRow] {
        let encoder = JSONEncoder()
        return try customers.map { customer in
            guard !customer.customerID.isEmpty, !customer.accountNumber.isEmpty else {
                throw CTIStoreError(.invalidArgument, path: "", operation: "upsertCustomers", "empty customer id or account number")
            }
            let tags: String
            do { tags = String(decoding: try encoder.encode(customer.tags), as: UTF8.self) } catch {
                throw CTIStoreError(.encodeFailed, path: "", operation: "upsertCustomers", "\(error)")
            }
            return CustomerRow(customer: customer, tagsJSON: tags)
        }
    }

    static func upsertCustomers(_ rows: [CustomerRow], at: Date, in db: Database) throws {
        let upsert = try db.cachedStatement(
            sql: """
                INSERT INTO customers (customer_id, account_number, name, address, meter, arrears_minor, tags, updated_at_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (customer_id) DO UPDATE SET
                    account_number = excluded.account_number, name = excluded.name, address = excluded.address,
                    meter = excluded.meter, arrears_minor = excluded.arrears_minor, tags = excluded.tags,
                    updated_at_ms = excluded.updated_at_ms
                """
        )
        let deleteNumbers = try db.cachedStatement(sql: "DELETE FROM customer_numbers WHERE customer_id = ?")
        let insertNumber = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO customer_numbers (number, customer_id) VALUES (?, ?)"
        )
        let now = milliseconds(at)
        for row in rows {
            let c = row.customer
            upsert.setUncheckedArguments([
                c.customerID, c.accountNumber, c.name, c.address, c.meter, c.arrearsMinor, row.tagsJSON, now,
            ])
            try upsert.execute()
            deleteNumbers.setUncheckedArguments([c.customerID])
            try deleteNumbers.execute()
            for number in c.numbers where !number.isEmpty {
                insertNumber.setUncheckedArguments([number, c.customerID])
                try insertNumber.execute()
            }
        }
    }

    private static let customerColumns =
        "c.customer_id, c.account_number, c.name, c.address, c.meter, c.arrears_minor, c.tags, c.updated_at_ms"

    private static let byNumberSQL = """
        SELECT \(customerColumns) FROM customer_numbers n JOIN customers c USING (customer_id)
        WHERE n.number = ? ORDER BY c.account_number
        """

    private static let byAccountSQL = "SELECT \(customerColumns) FROM customers c WHERE c.account_number = ?"

    private static func fetchCustomers(
        _ db: Database, _ sql: String, _ arguments: StatementArguments
    ) throws -> [StoredCustomer] {
        let decoder = JSONDecoder()
        let numbersStatement = try db.cachedStatement(
            sql: "SELECT number FROM customer_numbers WHERE customer_id = ? ORDER BY number"
        )
        return try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments).map { row in
            let id: String = row[0]
            let tagsJSON: String = row[6]
            let tags: [String]
            do { tags = try decoder.decode([String].self, from: Data(tagsJSON.utf8)) } catch {
                throw CTIStoreError(.corruptRow, path: "", operation: "customers", "customer \(id) tags: \(error)")
            }
            return StoredCustomer(
                customerID: id, accountNumber: row[1], name: row[2], address: row[3], meter: row[4],
                arrearsMinor: row[5], tags: tags,
                numbers: try String.fetchAll(numbersStatement, arguments: [id]),
                updatedAt: (row[7] as Int64?).map(date(milliseconds:))
            )
        }
    }

    /// SQLite allows 32,766 parameters and each number is bound twice: longer lists are queried in chunks.
    private static let numbersPerQuery = 5_000

    private static func recentCallsQueries(
        numbers: [String], limit: Int
    ) -> [(sql: String, arguments: StatementArguments)] {
        let numbers = Array(Set(numbers.filter { !$0.isEmpty })).sorted()
        guard !numbers.isEmpty, limit > 0 else { return [] }
        return stride(from: 0, to: numbers.count, by: numbersPerQuery).map { start in
            let chunk = Array(numbers[start..<min(numbers.count, start + numbersPerQuery)])
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
            // Two indexed lookups joined by UNION instead of one OR, which SQLite could answer with a table scan.
            let sql = """
                SELECT record FROM calls WHERE interaction_id IN (
                    SELECT interaction_id FROM calls WHERE calling IN (\(marks))
                    UNION SELECT interaction_id FROM calls WHERE called IN (\(marks))
                ) ORDER BY started_at_ms DESC, interaction_id DESC LIMIT ?
                """
            var arguments = StatementArguments()
            for number in chunk + chunk { arguments += [number] }
            arguments += [limit]
            return (sql, arguments)
        }
    }

    private static func recentCalls(_ db: Database, numbers: [String], limit: Int) throws -> [CallRecord] {
        let queries = recentCallsQueries(numbers: numbers, limit: limit)
        if queries.isEmpty { return [] }
        if queries.count == 1 { return try callRecords(db, queries[0].sql, queries[0].arguments) }
        var byID: [String: CallRecord] = [:]
        for query in queries {
            for record in try callRecords(db, query.sql, query.arguments) { byID[record.interactionID] = record }
        }
        let newestFirst = byID.values.sorted {
            ($0.startedAt, $0.interactionID) > ($1.startedAt, $1.interactionID)
        }
        return Array(newestFirst.prefix(limit))
    }

    private static func callRecords(_ db: Database, _ sql: String, _ arguments: StatementArguments) throws -> [CallRecord] {
        let decoder = JSONDecoder()
        return try Row.fetchAll(db, sql: sql, arguments: arguments).map { row in
            let json: String = row[0]
            do { return try decoder.decode(CallRecord.self, from: Data(json.utf8)) } catch {
                throw CTIStoreError(.corruptRow, path: "", operation: "recentCalls", "call record: \(error)")
            }
        }
    }
}
