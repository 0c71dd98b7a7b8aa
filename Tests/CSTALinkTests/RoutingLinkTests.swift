import CSTA
import Simulator
import Testing

@testable import CSTALink

/// The link as the routing application: it monitors the route point, gets the simulator's RouteRequest, and answers
/// with RouteSelect or RouteEnd through ``CSTALinkClient/routeSelect(routeingCrossRefID:destination:)`` and
/// ``CSTALinkClient/routeEnd(routeingCrossRefID:reason:)``.
@Suite(.serialized, .timeLimit(.minutes(1))) struct RoutingLinkTests {
    static let monitored = ["4001", "4002", "4003", "8001", "8100"]

    func routeRequest(_ h: SimulatorLink, from mark: Int) async throws -> (crossRef: String, callID: String) {
        let hit = try #require(await h.log.first(from: mark) { $0.cstaMessage?.record.string("service") == "RouteRequest" })
        let record = try #require(hit.entry.event.cstaMessage?.record)
        #expect(record.string("currentRoute") == "8100")
        return (try #require(record.string("routeingCrossRefID")), try #require(record.string("callID")))
    }

    @Test(arguments: [LinkVariant.hipath, .osv])
    func routeSelectAndRouteEndAreHonoured(_ variant: LinkVariant) async throws {
        let h = try await SimulatorLink.start(variant, monitors: Self.monitored, agentsReady: true)

        // RouteSelect: the call goes where the application says.
        var mark = await h.log.count
        let first = try await h.placeInboundCall(to: "8100")
        let selected = try await routeRequest(h, from: mark)
        #expect(selected.callID.lowercased() == first.lowercased())
        try await h.link.routeSelect(routeingCrossRefID: selected.crossRef, destination: "4002")
        let delivered = await h.log.event("delivered", device: "4002", callID: selected.callID, from: mark)
        #expect(delivered?.message.record.string("lastRedirection") == "8100")
        #expect(try await h.server.snapshot().calls[first]?.state(of: "4002") == .alerting)

        // RouteEnd: the switch's default destination, the ACD group, takes the call.
        mark = await h.log.count
        let second = try await h.placeInboundCall(to: "8100")
        let ended = try await routeRequest(h, from: mark)
        #expect(ended.callID.lowercased() == second.lowercased())
        try await h.link.routeEnd(routeingCrossRefID: ended.crossRef)
        let queued = await h.log.event("queued", device: "8001", callID: ended.callID, from: mark)
        #expect(queued?.message.record.string("lastRedirection") == "8100")
        let model = try await h.server.snapshot()
        #expect(model.calls[second]?.state(of: "8100") == nil && model.pendingRoutes.isEmpty)

        // A refusal of a request without a result is published with the request's service.
        mark = await h.log.count
        try await h.link.routeSelect(routeingCrossRefID: "7777", destination: "4003")
        let refusal = await h.log.first(from: mark) {
            $0.cstaMessage?.record.string("pdu") == "returnError" && $0.cstaMessage?.record.string("service") == "RouteSelectRequest"
        }
        #expect(refusal != nil)
        #expect(await h.log.stateChanges().map(\.change.state) == [.up])
        await h.shutdown()
    }

    @Test func routeRequestsNeedTheLinkUp() async throws {
        let link = CSTALinkClient(configuration: testConfig(.hipathBER, port: 1), logger: quietLogger())
        let error = await #expect(throws: CSTALinkError.self) { try await link.routeEnd(routeingCrossRefID: "0001") }
        #expect(error?.code == .linkDown)
        await link.shutdown()
    }
}
