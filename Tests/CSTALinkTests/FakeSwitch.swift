import CSTA
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// What the fake switch remembers and how it misbehaves; shared between the test and the switch's event loop.
final class FakeSwitchState: Sendable {
    struct Values {
        var requests: [CSTARecord] = []
        var nextCrossRef = 1
        var deviceByCrossRef: [String: String] = [:]
        var systemStatusAnswers = 0
        var connections = 0
        var children: [any Channel] = []
        /// Stop reading and writing (the socket stays open: half-open).
        var halfOpen = false
        /// The first request of this service turns its connection (that one only) half-open, unanswered.
        var halfOpenAtService: String?
        /// Write every frame one byte at a time.
        var oneByteWrites = false
        /// Send an event on each new monitor right behind its MonitorStart answer (a busy device, as a switch sends
        /// it: in the same TCP segment).
        var eventAfterMonitorStart = false
        var sessionResets = 0
        /// Answers the fake switch could not encode (a bug in the test).
        var encodeFailures: [CSTARecord] = []
    }

    let values = Mutex(Values())

    func with<T: Sendable>(_ body: (inout Values) -> T) -> T { values.withLock { body(&$0) } }

    func requests(_ service: String) -> [CSTARecord] {
        with { $0.requests.filter { $0.string("service") == service && $0.string("pdu") == "invoke" } }
    }
}

/// A small switch speaking real bytes over loopback: HiPath-style BER (AARQ → AARE → SystemStatus), OpenScape-style
/// XML (SystemStatus first) or DMCC-style XML (application sessions). It answers MonitorStart, MakeCall,
/// SnapshotDevice and the rest, and sends an `originated` event after each MakeCall.
struct FakeSwitch {
    enum Mode: Sendable { case hipath, osv, dmcc }

    let server: any Channel
    let state: FakeSwitchState
    var port: Int { server.localAddress!.port! }

    static func start(mode: Mode, framing: CSTAFraming, tls: NIOSSLContext? = nil) async throws -> FakeSwitch {
        let state = FakeSwitchState()
        let encoding: CSTAEncoding = mode == .hipath ? .ber : .xml
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    if let tls { try sync.addHandler(NIOSSLServerHandler(context: tls)) }
                    try sync.addHandler(ByteToMessageHandler(CSTAFrameDecoder(framing: framing, encoding: encoding)))
                    try sync.addHandler(FakeSwitchHandler(state: state, mode: mode, encoding: encoding, framing: framing))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return FakeSwitch(server: server, state: state)
    }

    /// Closes every accepted connection (the link sees FIN).
    func dropConnections() {
        let children = state.with { v in
            defer { v.children.removeAll() }
            return v.children
        }
        for c in children { c.close(promise: nil) }
    }

    /// Sends a SystemStatus invoke on every open connection.
    func sendSystemStatus() {
        let children = state.with { $0.children }
        for c in children { c.pipeline.fireUserInboundEventTriggered(FakeSwitchHandler.SendSystemStatus()) }
    }

    /// Sends an event for `device` on every connection (`originated`, call id `0999`).
    func sendEvent(device: String) {
        let children = state.with { $0.children }
        for c in children { c.pipeline.fireUserInboundEventTriggered(FakeSwitchHandler.SendEvent(device: device)) }
    }

    func shutdown() async {
        dropConnections()
        try? await server.close()
    }
}

final class FakeSwitchHandler: ChannelInboundHandler {
    typealias InboundIn = CSTAFrame
    typealias OutboundOut = ByteBuffer
    struct SendSystemStatus {}
    struct SendEvent { var device: String }

    let state: FakeSwitchState
    let mode: FakeSwitch.Mode
    let encoding: CSTAEncoding
    let framing: CSTAFraming
    var nextInvoke = 1
    /// This connection went half-open (``FakeSwitchState/Values/halfOpenAtService``).
    var silent = false

    init(state: FakeSwitchState, mode: FakeSwitch.Mode, encoding: CSTAEncoding, framing: CSTAFraming) {
        self.state = state
        self.mode = mode
        self.encoding = encoding
        self.framing = framing
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        state.with {
            $0.connections += 1
            $0.children.append(channel)
        }
        if mode == .osv { systemStatus(context) }
        context.fireChannelActive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is SendSystemStatus { systemStatus(context) }
        if let e = event as? SendEvent { sendEvent(context, device: e.device, callID: "0999") }
    }

    func systemStatus(_ context: ChannelHandlerContext) {
        send(context, ["pdu": .string("invoke"), "service": .string("SystemStatus"), "op": .int(211), "systemStatus": .string("normal")],
             invokeId: takeInvokeId())
    }

    func takeInvokeId() -> Int {
        defer { nextInvoke += 1 }
        return nextInvoke
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let message = try? frame.decode() else { return }
        let r = message.record()
        let halfOpen = state.with {
            if !$0.halfOpen { $0.requests.append(r) }
            return $0.halfOpen
        }
        if halfOpen || silent { return }
        silent = state.with { v in
            guard let service = v.halfOpenAtService, r.string("service") == service else { return false }
            v.halfOpenAtService = nil
            return true
        }
        if silent { return }
        let id = Int(r.int("invokeId") ?? 0)
        func answer(_ extra: [String: CSTARecord.Value]) {
            var a = CSTARecord(extra)
            a["pdu"] = a["pdu"] ?? .string("returnResult")
            a["invokeId"] = .int(Int64(id))
            if let s = r.string("service") { a["service"] = a["service"] ?? .string(s) }
            if let op = r.int("op") { a["op"] = .int(op) }
            send(context, a, invokeId: id)
        }
        switch r.string("pdu") {
        case "aarq":
            send(context, ["pdu": .string("aare"), "result": .string("accepted"), "cstaVersions": .strings(["versionFive"])], invokeId: 9999)
            systemStatus(context)
        case "returnResult":
            if r.int("op") == 211 || r.string("service") == "SystemStatus" { state.with { $0.systemStatusAnswers += 1 } }
        case "invoke":
            switch r.string("service") {
            case "MonitorStart":
                let xref = state.with { v -> String in
                    let x = String(String(v.nextCrossRef + 10000).dropFirst())
                    v.nextCrossRef += 1
                    v.deviceByCrossRef[x] = r.string("monitorObject")
                    return x
                }
                answer(["monitorCrossRefID": .string(xref)])
                if state.with({ $0.eventAfterMonitorStart }), let device = r.string("monitorObject") {
                    sendEvent(context, device: device, callID: "0a" + xref)
                }
            case "MakeCall":
                let called = r.string("called") ?? ""
                if called == "00000" { return }  // never answered
                if called == "88888" {  // ROSE reject (BER only)
                    send(context, ["pdu": .string("reject"), "invokeId": .int(Int64(id)), "rejectProblem": .int(1), "rejectValue": .int(2)], invokeId: id)
                    return
                }
                if called == "99999" {
                    var e: [String: CSTARecord.Value] = ["pdu": .string("returnError"), "errorCategory": .string("operation")]
                    if encoding == .ber {
                        e["errorCode"] = .int(1)
                        e["errorValue"] = .string("3")
                    } else {
                        e["errorValue"] = .string("invalidDeviceID")
                    }
                    e["service"] = nil
                    var a = CSTARecord(e)
                    a["invokeId"] = .int(Int64(id))
                    send(context, a, invokeId: id)
                    return
                }
                let calling = r.string("calling") ?? ""
                answer(["callID": .string("0101"), "connDevice": .string(calling)])
                sendEvent(context, device: calling, callID: "0101")
            case "ConsultationCall", "TransferCall", "ConferenceCall", "SingleStepTransferCall":
                answer(["callID": .string("0102")])
            case "SnapshotDevice":
                answer(["snapshotCallIDs": .strings(["0101"])])
            case "SystemRegister":
                answer(["sysStatRegisterID": .string("0042")])
            case "StartApplicationSession":
                answer(["sessionID": .string("S-1"), "sessionDuration": .int(3)])
            case "ResetApplicationSessionTimer":
                state.with { $0.sessionResets += 1 }
                answer(["sessionDuration": .int(3)])
            case "GetDeviceId":
                answer(["device": .string("other:\(r.string("device") ?? ""):CM1:10.0.0.1:0")])
            default:
                answer([:])
            }
        default:
            break
        }
    }

    func sendEvent(_ context: ChannelHandlerContext, device: String, callID: String) {
        let xrefs = state.with { v in v.deviceByCrossRef.filter { $0.value == device || $0.value.hasPrefix("other:\(device):") }.keys.sorted() }
        guard let xref = xrefs.last else { return }
        send(context, [
            "pdu": .string("invoke"), "op": .int(21), "service": .string("CSTAEventReport"), "event": .string("originated"),
            "monitorCrossRefID": .string(xref), "callID": .string(callID), "connDevice": .string(device),
            "device": .string(device), "called": .string("4711"), "cause": .string("makeCall"),
        ], invokeId: encoding == .ber ? takeInvokeId() : 9999)
    }

    func send(_ context: ChannelHandlerContext, _ keys: [String: CSTARecord.Value], invokeId: Int) {
        send(context, CSTARecord(keys), invokeId: invokeId)
    }

    func send(_ context: ChannelHandlerContext, _ record: CSTARecord, invokeId: Int) {
        var r = record
        if encoding == .ber, r.string("pdu") == "invoke" { r["invokeId"] = .int(Int64(invokeId)) }
        guard let payload = try? (encoding == .ber ? BERCodec.encode(r) : XMLCodec.encode(r)) else {
            state.with { $0.encodeFailures.append(r) }
            return
        }
        var out: [UInt8] = []
        try? CSTAFrameWriter.write(payload, framing: framing, invokeId: invokeId, to: &out)
        if state.with({ $0.oneByteWrites }) {
            for b in out { context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: [b])), promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: out)), promise: nil)
        }
    }
}

@available(*, unavailable)
extension FakeSwitchHandler: Sendable {}
