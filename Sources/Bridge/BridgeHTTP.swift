import CSTALink
import CallModel
import EventBus
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Prometheus
import Store

/// The daemon's HTTP side: health, Prometheus metrics, call records, calls in progress, agents, the journal, and the
/// status page. Read-only; the desktop API (screen pops) is its own module.
enum BridgeHTTP {
    struct Dependencies: Sendable {
        let pipeline: BridgePipeline
        let store: CTIStore
        let registry: PrometheusCollectorRegistry
        let startedAt: Date
    }

    static func router(_ d: Dependencies) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/health") { _, _ in
            try await json(health(d), status: .ok)
        }
        router.get("/ready") { _, _ in
            let health = try await health(d)
            return try json(health, status: health.link == "up" ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, _ in
            var buffer: [UInt8] = []
            buffer.reserveCapacity(16 * 1024)
            d.registry.emit(into: &buffer)
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
        router.get("/api/v1/calls") { request, _ in
            let query = request.uri.queryParameters
            let since = try query.get("since").map { try date($0, "since") }
            let until = try query.get("until").map { try date($0, "until") }
            let limit = try query.get("limit").map { text -> Int in
                guard let n = Int(text), (1...100_000).contains(n) else { throw badRequest("limit must be 1…100000") }
                return n
            }
            return try json(try await d.store.calls(since: since, until: until, limit: limit ?? 1000), status: .ok)
        }
        router.get("/api/v1/calls/active") { _, _ in
            try json(await d.pipeline.activeInteractions(), status: .ok)
        }
        router.get("/api/v1/agents") { _, _ in
            try json(await d.pipeline.agents(), status: .ok)
        }
        router.get("/api/v1/journal") { request, _ in
            let query = request.uri.queryParameters
            guard let after = Int64(query.get("after") ?? "0"), after >= 0 else { throw badRequest("after must be ≥ 0") }
            guard let limit = Int(query.get("limit") ?? "100"), (1...10_000).contains(limit) else {
                throw badRequest("limit must be 1…10000")
            }
            let page = try await d.store.readJournal(after: after, limit: limit)
            return try json(page.map { JournalLine(seq: $0.seq, event: $0.event) }, status: .ok)
        }
        router.get("/") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: StatusPage.html)))
        }
        return router
    }

    struct Health: Encodable {
        var status = "ok"
        var link: String
        var linkReason: String?
        var linkSince: String?
        var openCalls: Int
        var journalSeq: Int64
        var uptimeSeconds: Int
    }

    struct JournalLine: Encodable {
        var seq: Int64
        var event: CallEvent
    }

    static func health(_ d: Dependencies) async throws -> Health {
        let state = await d.pipeline.linkState
        let since = await d.pipeline.lastLinkChange
        return Health(
            link: state?.state.rawValue ?? "starting", linkReason: state?.reason, linkSince: since.map(CallRecord.iso),
            openCalls: await d.pipeline.activeInteractions().count, journalSeq: try await d.store.lastJournalSeq(),
            uptimeSeconds: Int(Date().timeIntervalSince(d.startedAt)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(CallRecord.iso(date))
        }
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
    }

    static func date(_ text: String, _ name: String) throws -> Date {
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().year().month().day().parse(text) { return date }
        throw badRequest("\(name) is not an ISO-8601 date or time: \(text)")
    }

    static func badRequest(_ message: String) -> HTTPError { HTTPError(.badRequest, message: message) }
}
