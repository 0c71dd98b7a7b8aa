import CSTA
import NIOCore
import NIOPosix
import Testing

@testable import Simulator

/// A minimal CSTA application for the tests: connects over loopback, writes records, reads records. Every wait is
/// bounded: the channel is closed after `deadline`, which ends any read.
/// The tests' own loops, so other suites' work on the shared singleton cannot delay the switch's timers.
let simulatorTestGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

struct LoopbackClient {
    let encoding: CSTAEncoding
    let framing: CSTAFraming
    let channel: NIOAsyncChannel<CSTAFrame, ByteBuffer>

    static func connect(
        to server: SimulatorServer, deadline: TimeAmount = .seconds(10)
    ) async throws -> LoopbackClient {
        let configuration = server.configuration
        let channel = try await ClientBootstrap(group: simulatorTestGroup)
            .connect(to: server.localAddress) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let decoder = CSTAFrameDecoder(framing: configuration.framing, encoding: configuration.encoding)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(decoder))
                    return try NIOAsyncChannel<CSTAFrame, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let raw = channel.channel
        raw.eventLoop.scheduleTask(in: deadline) { raw.close(promise: nil) }
        return LoopbackClient(encoding: configuration.encoding, framing: configuration.framing, channel: channel)
    }
}

/// One conversation: the reading side of a ``LoopbackClient`` and the writer.
struct Conversation {
    let client: LoopbackClient
    var inbound: NIOAsyncChannelInboundStream<CSTAFrame>.AsyncIterator
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    /// Writes `record` framed; `invokeId` also goes in the ECMA-323 header.
    func send(_ values: [String: CSTARecord.Value], invokeId: Int = 1) async throws {
        var record = CSTARecord(values)
        if record["invokeId"] == nil && client.encoding == .ber { record["invokeId"] = .int(Int64(invokeId)) }
        let payload = client.encoding == .ber ? try BERCodec.encode(record) : try XMLCodec.encode(record)
        var bytes: [UInt8] = []
        try CSTAFrameWriter.write(payload, framing: client.framing, invokeId: invokeId, to: &bytes)
        try await outbound.write(ByteBuffer(bytes: bytes))
    }

    /// The next message (a frame that is not a message gives `["error": …]`); `nil` when the link closed.
    mutating func next() async throws -> CSTARecord? {
        guard let frame = try await inbound.next() else { return nil }
        guard frame.error == nil, let message = try? frame.decode() else {
            return CSTARecord(["error": .string("\(frame.error.map { "\($0)" } ?? "undecodable")")])
        }
        var record = message.record()
        if record["invokeId"] == nil, let id = frame.headerInvokeId { record["invokeId"] = .int(id) }
        return record
    }

    /// Reads until a message matches; answers SystemStatus invokes on the way. Fails the test on close.
    mutating func next(
        where predicate: (CSTARecord) -> Bool, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> CSTARecord {
        while let record = try await next() {
            if predicate(record) { return record }
            if record.string("service") == "SystemStatus", record.string("pdu") == "invoke" { try await answerSystemStatus(record) }
        }
        Issue.record("link closed before the expected message", sourceLocation: sourceLocation)
        throw CancellationError()
    }

    func answerSystemStatus(_ invoke: CSTARecord) async throws {
        let id = Int(invoke.int("invokeId") ?? 1)
        try await send(["pdu": .string("returnResult"), "invokeId": .int(Int64(id)), "op": .int(211), "service": .string("SystemStatus")], invokeId: id)
    }

    /// Sends a request and returns its answer (returnResult or returnError with the same invoke id).
    mutating func request(_ values: [String: CSTARecord.Value], invokeId: Int) async throws -> CSTARecord {
        try await send(values.merging(["pdu": .string("invoke")]) { a, _ in a }, invokeId: invokeId)
        return try await next { r in
            (r.string("pdu") == "returnResult" || r.string("pdu") == "returnError") && r.int("invokeId") == Int64(invokeId)
        }
    }

    /// Reads the next event.
    mutating func event(sourceLocation: SourceLocation = #_sourceLocation) async throws -> CSTARecord {
        try await next(where: { $0.string("event") != nil }, sourceLocation: sourceLocation)
    }
}

extension LoopbackClient {
    /// Runs `body` with the conversation, then closes the link.
    func talk(_ body: (inout Conversation) async throws -> Void) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var conversation = Conversation(client: self, inbound: inbound.makeAsyncIterator(), outbound: outbound)
            try await body(&conversation)
        }
    }
}
