import CallModel
import Foundation
import ScreenPop
import Store
import Testing

@Suite("Customers and recent calls in the store")
struct CustomerStoreTests {
    static func customer(_ account: String, name: String, numbers: [String], arrears: Int64? = nil) -> StoredCustomer {
        StoredCustomer(
            customerID: CustomerDirectory.customerID(accountNumber: account), accountNumber: account, name: name,
            address: "北京市朝阳区建国路 88 号", meter: "M-\(account)", arrearsMinor: arrears, tags: ["vip", "低保"],
            numbers: numbers)
    }

    @Test("a batch round-trips, with every field and number")
    func roundTrip() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let store = temp.store
        try store.upsertCustomers([
            Self.customer("1001", name: "王伟", numbers: ["+8613812345678", "+861012345678"], arrears: 12345),
            Self.customer("1002", name: "李娜", numbers: ["+8613900000000"]),
        ])
        #expect(try store.customerCount() == 2)
        let wang = try #require(try store.customer(accountNumber: "1001"))
        #expect(wang.customerID == "acct-1001")
        #expect(wang.name == "王伟")
        #expect(wang.address == "北京市朝阳区建国路 88 号")
        #expect(wang.arrearsMinor == 12345)
        #expect(wang.tags == ["vip", "低保"])
        #expect(wang.numbers == ["+861012345678", "+8613812345678"])
        #expect(wang.updatedAt != nil)
        #expect(try store.customers(byNumber: "+861012345678").map(\.accountNumber) == ["1001"])
        #expect(try store.customers(byNumber: "+8699999999").isEmpty)
        #expect(try store.customer(accountNumber: "nope") == nil)
    }

    @Test("an upsert replaces a customer's fields and numbers")
    func upsertReplaces() async throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let store = temp.store
        try await store.upsertCustomers([Self.customer("1001", name: "王伟", numbers: ["+8613812345678"])])
        try await store.upsertCustomers([Self.customer("1001", name: "王伟伟", numbers: ["+8613700000000"], arrears: -500)])
        #expect(try await store.customerCount() == 1)
        let wang = try #require(try await store.customer(accountNumber: "1001"))
        #expect(wang.name == "王伟伟")
        #expect(wang.arrearsMinor == -500)
        #expect(try await store.customers(byNumber: "+8613812345678").isEmpty)
        #expect(try await store.customers(byNumber: "+8613700000000").count == 1)
    }

    @Test("customers sharing a number are all found, by account number")
    func sharedNumber() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        try temp.store.upsertCustomers([
            Self.customer("2002", name: "B", numbers: ["+861088888888"]),
            Self.customer("2001", name: "A", numbers: ["+861088888888", "+8613812345678"]),
        ])
        let directory = CustomerDirectory(store: temp.store)
        let cards = try directory.customers(number: "010-8888 8888")
        #expect(cards.map(\.accountNumber) == ["2001", "2002"])
        #expect(cards[0].numbers == ["+861088888888", "+8613812345678"])
        #expect(cards[0].tags == ["vip", "低保"])
        #expect(try directory.customers(number: "not a number").isEmpty)
    }

    @Test("recent calls match the calling or called number in any spelling, newest first, limited")
    func recentCalls() async throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        let store = temp.store
        // As the daemon's call-record consumer stores them, numbers as the switch wrote them.
        let records = [
            callRecord("I-1", calling: "013812345678", start: 0),
            callRecord("I-2", calling: "+8613812345678", start: 100, agent: "A2"),
            callRecord("I-3", calling: "4001", called: "13812345678", start: 200, direction: "outbound"),
            callRecord("I-4", calling: "013900000000", start: 300),
            callRecord("I-5", calling: "8613812345678", start: 400, outcome: "abandoned"),
        ]
        for (index, record) in records.enumerated() {
            try await store.recordCall(record, journalSeq: Int64(index + 1), consumer: "calls")
        }
        let directory = CustomerDirectory(store: store, rules: PhoneNumberRules(acceptsCountryCodeWithoutPrefix: true))
        let recent = try await directory.recentCalls(numbers: ["138 1234 5678"], limit: 10)
        #expect(recent.map(\.interactionID) == ["I-5", "I-3", "I-2", "I-1"])
        #expect(recent[2].agentID == "A2")
        #expect(recent[2].talkSeconds == 60)
        #expect(recent[1].direction == "outbound")
        #expect(recent[0].outcome == "abandoned")
        #expect(try await directory.recentCalls(numbers: ["13812345678"], limit: 2).map(\.interactionID) == ["I-5", "I-3"])
        #expect(try await store.recentCalls(numbers: [], limit: 5).isEmpty)
        #expect(try await store.recentCalls(numbers: ["+8613812345678"], limit: 0).isEmpty)
    }

    @Test("a very long number list stays within SQLite's parameter limit")
    func longNumberList() throws {
        let temp = try TemporaryStore()
        defer { temp.remove() }
        try temp.store.recordCall(callRecord("I-1", calling: "n5", start: 0), journalSeq: 1, consumer: "calls")
        let numbers = (0..<40_000).map { "n\($0)" }
        #expect(try temp.store.recentCalls(numbers: numbers, limit: 1).map(\.interactionID) == ["I-1"])
    }
}
