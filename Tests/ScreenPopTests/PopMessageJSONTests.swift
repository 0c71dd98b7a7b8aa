import Foundation
import ScreenPop
import Testing

@Suite("Pop message JSON (contract §7)")
struct PopMessageJSONTests {
    static let sentAt = Date(timeIntervalSince1970: 1_795_428_902.123456)  // 2026-11-23T10:15:02.123456Z

    static func fullMessage() -> PopMessage {
        PopMessage(
            type: .pop, interactionID: "ix-abc-0001", callIDs: ["0001", "0002"], calling: "+498912345678",
            called: "96510", device: "4001", agentID: "A4001", queue: "8001", waitSeconds: 12.5, callState: "ringing",
            customer: CustomerCard(
                customerID: "C-1", name: "王芳 \"Fang\"\n", accountNumber: "1002003", address: "Nanjing Rd\\1",
                meter: nil, arrearsMinor: 12_345, tags: ["vip"], numbers: ["+498912345678"]),
            openWorkOrders: [
                WorkOrderSummary(
                    workOrderID: "W1", category: "outage", status: "open",
                    createdAt: Date(timeIntervalSince1970: 1_795_400_000), title: "no power\t")
            ],
            recentCalls: [
                RecentCall(
                    interactionID: "ix-old", startedAt: Date(timeIntervalSince1970: 1_795_300_000.5),
                    direction: "inbound", outcome: "answered", agentID: nil, talkSeconds: 63)
            ],
            sentAt: sentAt, event: "ringing", enriched: true)
    }

    static func decode(_ json: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        return try #require(object as? [String: Any])
    }

    @Test func fullMessageDecodesBackWithTheContractShape() throws {
        let json = Self.fullMessage().json()
        let object = try Self.decode(json)
        for key in [
            "type", "interactionID", "callIDs", "calling", "called", "device", "agentID", "customer", "openWorkOrders",
            "recentCalls", "sentAt",
        ] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["type"] as? String == "pop")
        #expect(object["callIDs"] as? [String] == ["0001", "0002"])
        #expect(object["sentAt"] as? String == "2026-11-23T10:15:02.123456Z")
        #expect(object["waitSeconds"] as? Double == 12.5)
        #expect(object["enriched"] as? Bool == true)
        #expect(object["agentState"] == nil, "unset extras are left out")
        let customer = try #require(object["customer"] as? [String: Any])
        #expect(customer["name"] as? String == "王芳 \"Fang\"\n")
        #expect(customer["address"] as? String == "Nanjing Rd\\1")
        #expect(customer["meter"] is NSNull)
        #expect((customer["arrearsMinor"] as? NSNumber)?.int64Value == 12_345)
        let orders = try #require(object["openWorkOrders"] as? [[String: Any]])
        #expect(orders.first?["title"] as? String == "no power\t")
        #expect(orders.first?["createdAt"] as? String == "2026-11-23T02:13:20.000000Z")
        let calls = try #require(object["recentCalls"] as? [[String: Any]])
        #expect(calls.first?["startedAt"] as? String == "2026-11-21T22:26:40.500000Z")
        #expect(calls.first?["agentID"] is NSNull)
        #expect((calls.first?["talkSeconds"] as? NSNumber)?.doubleValue == 63)
        // Keys in the contract's order, first.
        #expect(json.hasPrefix(#"{"type":"pop","interactionID":"ix-abc-0001","callIDs":["0001","0002"],"#))
    }

    @Test func unknownCustomerIsAnExplicitNullAndEmptyListsStay() throws {
        let message = PopMessage(type: .end, interactionID: "ix-1", device: "4001", agentID: "A4001", callState: "ended")
        let object = try Self.decode(message.json())
        #expect(object["customer"] is NSNull)
        #expect(object["sentAt"] is NSNull, "set by the sender")
        #expect(object["calling"] is NSNull)
        #expect((object["openWorkOrders"] as? [Any])?.isEmpty == true)
        #expect((object["recentCalls"] as? [Any])?.isEmpty == true)
    }

    @Test func stateMessageAndControlCharacters() throws {
        let message = PopMessage(
            type: .state, agentID: "A\u{1}4001", agentState: "notReady", reason: "lunch",
            sentAt: Date(timeIntervalSince1970: 0))
        let json = message.json()
        #expect(json.contains(#""agentID":"A\u00014001""#))
        let object = try Self.decode(json)
        #expect(object["agentID"] as? String == "A\u{1}4001")
        #expect(object["agentState"] as? String == "notReady" && object["reason"] as? String == "lunch")
        #expect(object["sentAt"] as? String == "1970-01-01T00:00:00.000000Z")
        #expect(object["interactionID"] is NSNull)
    }

    @Test func datesMatchFoundationsFormatter() throws {
        let formatter = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        for seconds in [0.0, 951_782_400.25, 1_709_210_096.999999, 4_102_444_799.5, -86_400.5] {
            let date = Date(timeIntervalSince1970: seconds)
            let message = PopMessage(type: .gap, sentAt: date)
            let text = try #require(try Self.decode(message.json())["sentAt"] as? String)
            let parsed = try formatter.parse(text)
            #expect(abs(parsed.timeIntervalSince1970 - seconds) < 0.001, "\(seconds) → \(text)")
        }
    }
}
