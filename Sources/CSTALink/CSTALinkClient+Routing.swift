import CSTA
import Logging

/// Routing: the switch asks with a RouteRequest (a ``LinkEvent/message(_:)`` with `service` `RouteRequest`, its
/// `routeingCrossRefID`, `currentRoute`, `calling` and `callID`); the application answers with
/// ``routeSelect(routeingCrossRefID:destination:)`` or gives the call back to the switch's default routing with
/// ``routeEnd(routeingCrossRefID:reason:)``.
///
/// Both are CSTA operations without a result (`csta-notes.md`: "app→SF, no response"): they return once the request
/// is written. If the switch refuses one (a returnError, say for an unknown cross-reference id) the refusal is logged
/// and published on ``events`` as a `returnError` message whose `service` names the request.
extension CSTALinkClient {
    /// RouteSelectRequest: send the call waiting for a route to `destination`.
    public func routeSelect(routeingCrossRefID: String, destination: String) throws {
        try sendWithoutAnswer([
            "service": .string("RouteSelectRequest"), "op": .int(33), "routeingCrossRefID": .string(routeingCrossRefID),
            "routeSelected": .string(destination),
        ])
    }

    /// RouteEndRequest: the application will not route this call; the switch routes it by default.
    /// - Parameter reason: an optional error value (BER: a UniversalFailure value name or number; XML: `errorValue`).
    public func routeEnd(routeingCrossRefID: String, reason: String? = nil) throws {
        var keys: [String: CSTARecord.Value] = [
            "service": .string("RouteEndRequest"), "op": .int(35), "routeingCrossRefID": .string(routeingCrossRefID),
        ]
        if let reason { keys["reason"] = .string(reason) }
        try sendWithoutAnswer(keys)
    }

    /// Writes an invoke that the switch does not answer; its invoke id stays taken for a request timeout.
    func sendWithoutAnswer(_ keys: [String: CSTARecord.Value]) throws {
        guard isUp, let conn = connection, !conn.ending else { throw CSTALinkError(.linkDown, "the link is not up") }
        guard let id = allocator.allocate() else { throw CSTALinkError(.invokeIdsExhausted) }
        var r = CSTARecord(keys)
        r["pdu"] = .string("invoke")
        r["invokeId"] = .int(Int64(id))
        do {
            conn.out.yield(try frame(r, invokeId: id))
        } catch {
            allocator.release(id)
            throw CSTALinkError(.encodeFailed, "\(error)")
        }
        let service = r.string("service") ?? "request"
        unanswered[id] = service
        let generation = conn.generation
        let wait = configuration.requestTimeout
        Task { [weak self] in
            try? await Task.sleep(for: wait)
            await self?.forgetUnanswered(id, generation: generation)
        }
    }

    func forgetUnanswered(_ id: Int, generation: Int) {
        guard connection?.generation == generation, unanswered.removeValue(forKey: id) != nil else { return }
        allocator.release(id)
    }

    /// An answer to a request that expects none: a refusal is logged and published; anything else is dropped.
    func answeredAnyway(_ message: CSTAMessage, _ record: CSTARecord, invokeId id: Int, service: String) {
        allocator.release(id)
        guard record.string("pdu") != "returnResult" else { return }
        let error = CSTAServiceError(record: record, service: service)
        logger.warning("the switch refused a request", metadata: ["invokeId": "\(id)", "error": "\(error)"])
        var published = record
        published["service"] = .string(service)
        sink.yield(.message(CSTAEventMessage(message: message, record: published, device: nil)))
    }
}
