import CSTA
import NIOCore
import Testing

@testable import Simulator

/// Calls to the route point 8100: the RouteRequest goes only to the links that monitor the route point (the codec has
/// no RouteRegister), only they may answer it, RouteEnd sends the call to the default destination (the ACD group
/// 8001), and with no router (left) the switch routes by default at once.
@Suite(.timeLimit(.minutes(1))) struct RoutingTests {
    static let caller = "+498912345678"

    func start() async throws -> SimulatorServer {
        try await SimulatorServer.start(
            configuration: SimulatorConfiguration(encoding: .ber, framing: .hipath, numbering: SwitchNumbering(agentCount: 3)),
            group: simulatorTestGroup)
    }

    func associate(_ c: inout Conversation, monitoring devices: [String]) async throws {
        try await c.send(["pdu": .string("aarq"), "applicationContext": .string("1.3.12.0.218")])
        #expect(try await c.next { $0.string("pdu") == "aare" }.string("result") == "accepted")
        for (i, device) in devices.enumerated() {
            let monitor = try await c.request(["op": .int(71), "monitorObject": .string(device)], invokeId: 100 + i)
            #expect(monitor.string("monitorCrossRefID") != nil, "MonitorStart \(device)")
        }
    }

    func placeCall(_ server: SimulatorServer, to dialed: String = "8100") async throws -> String {
        try await server.perform { (m, now) throws(SwitchError) in try m.placeInboundCall(from: Self.caller, to: dialed, now: now) }
    }

    @Test func routeRequestsGoOnlyToTheRouterAndRouteEndTakesTheDefaultRoute() async throws {
        let server = try await start()
        try await LoopbackClient.connect(to: server).talk { router in
            try await associate(&router, monitoring: ["8100"])
            try await LoopbackClient.connect(to: server).talk { other in
                try await associate(&other, monitoring: ["8001"])
                let call = try await placeCall(server)

                let request = try await router.next { $0.string("service") == "RouteRequest" }
                let crossRef = try #require(request.string("routeingCrossRefID"))
                #expect(request.string("callID")?.lowercased() == call.lowercased() && request.string("currentRoute") == "8100")

                // The other link got no RouteRequest: its next answer comes with nothing of the kind before it.
                try await other.send(["pdu": .string("invoke"), "op": .int(74), "device": .string("8001")], invokeId: 1)
                var before: [CSTARecord] = []
                let snapshot = try await other.next { r in
                    before.append(r)
                    return r.string("pdu") == "returnResult" && r.int("invokeId") == 1
                }
                #expect(snapshot.strings("snapshotCallIDs") == [])
                #expect(!before.contains { $0.string("service") == "RouteRequest" }, "\(before.map(\.values))")

                // …and may not answer it.
                let refused = try await other.request(
                    ["op": .int(33), "routeingCrossRefID": .string(crossRef), "routeSelected": .string("4001")], invokeId: 2)
                #expect(refused.string("pdu") == "returnError" && refused.string("errorCategory") == "operation")
                #expect(try await server.snapshot().calls[call]?.state(of: "8100") == .queued)

                // RouteEnd from the router: the call leaves the route point for the ACD group.
                try await router.send(["pdu": .string("invoke"), "op": .int(35), "routeingCrossRefID": .string(crossRef)], invokeId: 3)
                let queued = try await other.next { $0.string("event") == "queued" }
                #expect(queued.string("callID")?.lowercased() == call.lowercased() && queued.string("lastRedirection") == "8100")
                let model = try await server.snapshot()
                #expect(model.calls[call]?.state(of: "8001") == .queued && model.calls[call]?.state(of: "8100") == nil)
                #expect(model.pendingRoutes.isEmpty)

                // Answered once: a second RouteEnd is refused.
                let again = try await router.request(["op": .int(35), "routeingCrossRefID": .string(crossRef)], invokeId: 4)
                #expect(again.string("pdu") == "returnError")
            }
        }
        try await server.shutdown()
    }

    @Test func withoutARouterTheCallTakesTheDefaultRouteAtOnce() async throws {
        let server = try await start()
        try await LoopbackClient.connect(to: server).talk { c in
            try await associate(&c, monitoring: ["8001", "4001"])
            let call = try await placeCall(server)
            let model = try await server.snapshot()
            #expect(model.calls[call]?.state(of: "8001") == .queued && model.pendingRoutes.isEmpty)
            var seen: [CSTARecord] = []
            let queued = try await c.next { r in
                seen.append(r)
                return r.string("event") == "queued"
            }
            #expect(queued.string("lastRedirection") == "8100")
            #expect(!seen.contains { $0.string("service") == "RouteRequest" })
        }
        try await server.shutdown()
    }

    @Test func whenTheRouterLeavesTheCallTakesTheDefaultRoute() async throws {
        let server = try await start()
        var call = ""
        try await LoopbackClient.connect(to: server).talk { router in
            try await associate(&router, monitoring: ["8100"])
            call = try await placeCall(server)
            _ = try await router.next { $0.string("service") == "RouteRequest" }
            #expect(try await server.snapshot().calls[call]?.state(of: "8100") == .queued)
        }
        var state: LocalConnectionState?
        for _ in 0..<100 {
            state = try await server.snapshot().calls[call]?.state(of: "8001")
            if state != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(state == .queued)
        #expect(try await server.snapshot().pendingRoutes.isEmpty)
        try await server.shutdown()
    }
}
