import CSTA
import Testing

@testable import CSTALink

@Suite struct InvokeIdAllocatorTests {
    @Test func berWrapsAt32767() {
        var a = InvokeIdAllocator(range: 1...32767)
        var last = 0
        for _ in 0..<32767 {
            last = a.allocate()!
            a.release(last)
        }
        #expect(last == 32767)
        #expect(a.allocate() == 1)
    }

    @Test func xmlNeverUsesTheEventId() {
        var a = InvokeIdAllocator(range: LinkConfiguration(host: "h", port: 1, flavour: .openScapeXML).invokeIdRange)
        var seen = Set<Int>()
        for _ in 0..<20_000 {
            let id = a.allocate()!
            seen.insert(id)
            a.release(id)
        }
        #expect(seen.count == 9998)
        #expect(!seen.contains(9999))
        #expect(!seen.contains(0))
    }

    @Test func skipsIdsStillInFlight() {
        var a = InvokeIdAllocator(range: 1...5)
        let first = a.allocate()!  // 1 stays in flight
        for _ in 0..<4 { a.release(a.allocate()!) }  // 2…5
        #expect(first == 1)
        #expect(a.allocate() == 2)  // wrapped past 1
        #expect(a.inFlight == [1, 2])
    }

    @Test func exhaustionIsReported() {
        var a = InvokeIdAllocator(range: 1...3)
        #expect([a.allocate(), a.allocate(), a.allocate()] == [1, 2, 3])
        #expect(a.allocate() == nil)
        a.release(2)
        #expect(a.allocate() == 2)
        a.releaseAll()
        #expect(a.inFlight.isEmpty)
    }
}

@Suite struct ConfigurationTests {
    @Test func backoffGrowsAndIsCapped() {
        let b = LinkConfiguration.Backoff(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0.5)
        #expect(b.delay(attempt: 0, random: 0.5) == .milliseconds(100))
        #expect(b.delay(attempt: 2, random: 0.5) == .milliseconds(400))
        #expect(b.delay(attempt: 10, random: 0.5) == .seconds(1))
        #expect(b.delay(attempt: 10, random: 0) == .milliseconds(500))
        #expect(b.delay(attempt: 10, random: 1) == .milliseconds(1500))
    }

    @Test func defaultsFollowTheFlavour() {
        let h = LinkConfiguration(host: "h", port: 1, flavour: .hipathBER)
        #expect(h.encoding == .ber && h.framing == .hipath && h.invokeIdRange == 1...32767)
        var d = LinkConfiguration(host: "h", port: 4721, flavour: .dmccXML)
        #expect(d.encoding == .xml && d.framing == .ecma323)
        d.heartbeatInterval = .seconds(7)
        #expect(d.effectiveDeadLinkInterval == .seconds(14))
    }

    @Test func deviceLists() throws {
        #expect(try DeviceList.parse("4001-4003,8001") == ["4001", "4002", "4003", "8001"])
        #expect(try DeviceList.parse("0098-0100, 4711,4711") == ["0098", "0099", "0100", "4711"])
        #expect(throws: DeviceList.ParseError.self) { try DeviceList.parse("4010-4001") }
    }

    @Test func numbersAreMasked() {
        #expect(NumberMask.mask("4711") == "**11")
        #expect(NumberMask.mask("+49 89 700") == "+** ** *00")
        #expect(NumberMask.mask("4711", enabled: false) == "4711")
    }

    @Test func serviceErrorsAreTyped() {
        let e = CSTAServiceError(
            record: CSTARecord(["pdu": .string("returnError"), "errorCategory": .string("operation"), "errorValue": .string("invalidDeviceID")]),
            service: "MakeCall")
        #expect(e.kind == .returnError && e.category == "operation" && e.value == "invalidDeviceID")
        let r = CSTAServiceError(record: CSTARecord(["pdu": .string("reject"), "rejectProblem": .int(1), "rejectValue": .int(2)]), service: nil)
        #expect(r.kind == .reject && r.rejectProblem == 1 && r.rejectValue == 2)
        #expect(CSTALinkError(.timeout, "x") == CSTALinkError(.timeout))
    }
}

extension ConfigurationTests {
    @Test func keepAliveTimeoutDefaultsToHalfTheHeartbeat() {
        var config = LinkConfiguration(host: "127.0.0.1", port: 1, flavour: .hipathBER)
        config.heartbeatInterval = .seconds(20)
        #expect(config.effectiveKeepAliveTimeout == .seconds(10))
        #expect(config.effectiveDeadLinkInterval == .seconds(40))
        config.keepAliveTimeout = .seconds(3)
        #expect(config.effectiveKeepAliveTimeout == .seconds(3))
    }
}
