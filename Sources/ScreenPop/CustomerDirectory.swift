import CallModel
import Foundation
import Store

/// Customers by caller number and their recent calls, as a pop shows them: the store's rows mapped to
/// ``CustomerCard`` and ``RecentCall``, numbers normalized with the site's ``PhoneNumberRules`` first.
public struct CustomerDirectory: Sendable {
    public let store: CTIStore
    public let rules: PhoneNumberRules

    public init(store: CTIStore, rules: PhoneNumberRules = PhoneNumberRules()) {
        self.store = store
        self.rules = rules
    }

    /// The customers with this number, however it is written (empty for an unknown or unparseable number).
    public func customers(number: String) throws -> [CustomerCard] {
        guard let canonical = rules.normalize(number) else { return [] }
        return try store.customers(byNumber: canonical).map(Self.card)
    }

    /// The customers with this number, however it is written, read on a reader connection.
    public func customers(number: String) async throws -> [CustomerCard] {
        guard let canonical = rules.normalize(number) else { return [] }
        return try await store.customers(byNumber: canonical).map(Self.card)
    }

    /// The newest `limit` calls from or to any of `numbers` (each normalized, then looked up in every spelling a
    /// switch may have recorded), newest first.
    public func recentCalls(numbers: [String], limit: Int = 5) throws -> [RecentCall] {
        try store.recentCalls(numbers: spellings(numbers), limit: limit).map(Self.recentCall)
    }

    /// The newest `limit` calls from or to any of `numbers`, read on a reader connection.
    public func recentCalls(numbers: [String], limit: Int = 5) async throws -> [RecentCall] {
        try await store.recentCalls(numbers: spellings(numbers), limit: limit).map(Self.recentCall)
    }

    private func spellings(_ numbers: [String]) -> [String] {
        numbers.compactMap(rules.normalize).flatMap(rules.spellings(of:))
    }

    /// The card a pop carries for a stored customer.
    public static func card(_ customer: StoredCustomer) -> CustomerCard {
        CustomerCard(
            customerID: customer.customerID, name: customer.name, accountNumber: customer.accountNumber,
            address: customer.address, meter: customer.meter, arrearsMinor: customer.arrearsMinor, tags: customer.tags,
            numbers: customer.numbers)
    }

    /// A call record as a pop lists it.
    public static func recentCall(_ record: CallRecord) -> RecentCall {
        RecentCall(
            interactionID: record.interactionID, startedAt: record.startedAt, direction: record.direction,
            outcome: record.outcome, agentID: record.answeredBy, talkSeconds: record.talkSeconds)
    }

    /// The stable customer id for an account number: readable, and the same on every import.
    public static func customerID(accountNumber: String) -> String { "acct-" + accountNumber }
}
