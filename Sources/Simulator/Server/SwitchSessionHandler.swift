import CSTA
import Logging
import NIOCore

/// One application's link to the switch: association or application session, SystemStatus supervision, requests
/// answered through the ``SwitchCore``, events for the link's monitors, and the faults the configuration asks for.
final class SwitchSessionHandler: ChannelInboundHandler {
    typealias InboundIn = CSTAFrame
    typealias OutboundOut = ByteBuffer

    let core: SwitchCore
    var configuration: SimulatorConfiguration { core.configuration }
    var logger: Logger
    private(set) var sessionID = 0
    private(set) var isAssociated = false
    private var context: ChannelHandlerContext?
    private var halfOpen = false
    private var unansweredSystemStatus = 0
    private var nextInvokeId: Int64 = 0
    private var random: SeededGenerator
    private var timers: [LoopTimer] = []
    /// While a request is being answered, the events it raises wait here so they follow the answer on the wire.
    private var heldBackEvents: [(record: CSTARecord, headerInvokeId: Int64)]?
    /// The ECMA-354 application session granted on this link (DMCC), and the timer that ends it unless a
    /// ResetApplicationSessionTimer comes first.
    private(set) var applicationSession: (id: String, duration: Int64)?
    private var sessionExpiry: Scheduled<Void>?

    init(core: SwitchCore, logger: Logger) {
        self.core = core
        self.logger = logger
        self.random = SeededGenerator(seed: core.configuration.seed)
    }

    // MARK: Lifecycle

    func channelActive(context: ChannelHandlerContext) {
        self.context = context
        sessionID = core.register(self)
        random = SeededGenerator(seed: configuration.seed &+ UInt64(sessionID))
        logger[metadataKey: "link"] = "\(sessionID)"
        logger.info("application connected", metadata: ["peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
        if configuration.flavor == .osv { sendSystemStatus() }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        logger.info("application disconnected")
        stop()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) { stop() }

    /// Closes the link (server shutdown).
    func close() { context?.close(promise: nil) }

    private func stop() {
        for timer in timers { timer.cancel() }
        timers = []
        sessionExpiry?.cancel()
        sessionExpiry = nil
        if sessionID != 0 { core.unregister(sessionID) }
        self.context = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.warning("link error, closing", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }

    // MARK: Receiving

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !halfOpen else { return }
        let frame = unwrapInboundIn(data)
        let message: CSTAMessage
        do {
            message = try frame.decode()
        } catch {
            logger.warning("undecodable frame ignored", metadata: ["error": "\(error)"])
            return
        }
        let record = message.record()
        let invokeId = record.int("invokeId") ?? frame.headerInvokeId ?? 0
        switch record.string("pdu") {
        case "aarq": associate(record)
        case "invoke":
            // The password is read for the log-in check only; it is not part of the record (records get logged).
            let password = record.string("service") == "StartApplicationSession" ? message.authenticationPassword : nil
            received(request: record, invokeId: invokeId, password: password)
        case "returnResult": receivedResult(record)
        case "returnError", "reject":
            logger.notice("application refused a switch request", metadata: ["record": "\(record.values)"])
        case "abrt", "rlrq":
            if record.string("pdu") == "rlrq" { send(CSTARecord(["pdu": .string("rlre")]), headerInvokeId: 9999) }
            logger.info("application released the association")
            context.close(promise: nil)
        default:
            logger.notice("unexpected message ignored", metadata: ["pdu": "\(record.string("pdu") ?? "?")"])
        }
    }

    /// HiPath ACSE: accept the CSTA application context, refuse any other.
    private func associate(_ aarq: CSTARecord) {
        let context = aarq.string("applicationContext") ?? ""
        let accepted = context == "1.3.12.0.218"
        send(
            CSTARecord([
                "pdu": .string("aare"), "applicationContext": .string("1.3.12.0.218"),
                "result": .string(accepted ? "accepted" : "rejectedPermanent"), "cstaVersions": .strings(["versionFive"]),
            ]), headerInvokeId: 9999)
        guard accepted else {
            logger.warning("association rejected", metadata: ["applicationContext": "\(context)"])
            self.context?.close(promise: nil)
            return
        }
        logger.info("association accepted")
        isAssociated = true
        sendSystemStatus()
        startSupervision()
    }

    private func receivedResult(_ record: CSTARecord) {
        let service = record.string("service") ?? record.int("op").flatMap { CSTANames.serviceName(forOperation: Int32($0)) }
        guard service == "SystemStatus" else { return }
        unansweredSystemStatus = 0
        if configuration.flavor == .osv, !isAssociated {
            isAssociated = true
            startSupervision()
        }
    }

    private func received(request: CSTARecord, invokeId: Int64, password: String?) {
        let service = SwitchRequests.service(of: request)
        if !isAssociated && !SwitchRequests.allowedBeforeAssociation(service, flavor: configuration.flavor) {
            logger.notice("request before association refused", metadata: ["service": "\(service)"])
            send(SwitchError.notAssociated("no association").record(invokeId: invokeId, encoding: configuration.encoding),
                headerInvokeId: invokeId)
            return
        }
        let answer: CSTARecord?
        heldBackEvents = []
        if service == "StartApplicationSession", let refusal = loginRefusal(request, password: password) {
            answer = refusal.record(invokeId: invokeId, encoding: configuration.encoding, service: service)
        } else if let share = rejectShare, Double.random(in: 0..<1, using: &random) < share, service != "SystemStatus" {
            answer = SwitchError.serviceBusy("fault injection").record(invokeId: invokeId, encoding: configuration.encoding)
        } else {
            answer = SwitchRequests.answer(request, service: service, invokeId: invokeId, session: self)
        }
        if service == "StartApplicationSession", answer?.string("pdu") == "returnResult" {
            isAssociated = true
        }
        if service == "SystemRegister", configuration.flavor == .osv, !isAssociated {
            isAssociated = true
            startSupervision()
        }
        let events = heldBackEvents ?? []
        heldBackEvents = nil
        let reply = { [self] in
            if let answer { send(answer, headerInvokeId: invokeId) }
            for event in events { send(event.record, headerInvokeId: event.headerInvokeId) }
        }
        if let delay = slowDelay, let loop = context?.eventLoop {
            loop.assumeIsolated().scheduleTask(in: delay) { reply() }
        } else {
            reply()
        }
        if service == "StopApplicationSession" { context?.close(promise: nil) }
    }

    // MARK: DMCC application session (ECMA-354)

    /// With a configured log-in, a StartApplicationSession whose `SessionLoginInfo` does not match is refused with
    /// `definedError` `invalidApplicationInfo` (what AES answers; the link reports it as an authentication failure).
    private func loginRefusal(_ request: CSTARecord, password: String?) -> SwitchError? {
        guard let login = configuration.dmccLogin else { return nil }
        let user = request.string("authenticationName")
        guard !login.accepts(user: user, password: password) else { return nil }
        logger.warning(
            "DMCC log-in refused", metadata: ["user": "\(user ?? "-")", "password": "\(password == nil ? "none" : "wrong")"])
        return .applicationSession("invalidApplicationInfo", "wrong user name or password")
    }

    /// Grants the session (the requested duration, at least a second; 180 s when none is asked for) and starts its
    /// timer.
    func startApplicationSession(requested: Int64?) -> (id: String, duration: Int64) {
        let granted = (id: "SIM\(sessionID)", duration: max(1, requested ?? 180))
        applicationSession = granted
        armSessionTimer()
        return granted
    }

    /// ResetApplicationSessionTimer: only the session's own id restarts its timer (with the newly requested duration,
    /// if any). Per ECMA-354 nothing else does — a link busy with other traffic still expires.
    func resetApplicationSessionTimer(id: String?, requested: Int64?) throws(SwitchError) -> Int64 {
        guard let session = applicationSession, id == session.id else {
            throw .applicationSession("invalidSessionID", "no application session \(id ?? "(none)") on this link")
        }
        applicationSession?.duration = max(1, requested ?? session.duration)
        armSessionTimer()
        return applicationSession?.duration ?? session.duration
    }

    /// StopApplicationSession: the session ends (the link is closed after the answer).
    func stopApplicationSession() {
        sessionExpiry?.cancel()
        sessionExpiry = nil
        applicationSession = nil
    }

    private func armSessionTimer() {
        sessionExpiry?.cancel()
        guard let context, let session = applicationSession else { return }
        sessionExpiry = context.eventLoop.assumeIsolated().scheduleTask(in: .seconds(session.duration)) { [self] in
            sessionExpired()
        }
    }

    /// The session timer ran out: ApplicationSessionTerminated (reason `sessionTimerExpired`), then the link closes.
    private func sessionExpired() {
        guard let session = applicationSession, let context, !halfOpen else { return }
        logger.notice(
            "DMCC session expired, terminating", metadata: ["sessionID": "\(session.id)", "duration": "\(session.duration)s"])
        applicationSession = nil
        sessionExpiry = nil
        send(
            CSTARecord([
                "pdu": .string("invoke"), "service": .string("ApplicationSessionTerminated"), "sessionID": .string(session.id),
                "reason": .string("sessionTimerExpired"),
            ]), headerInvokeId: 9999)
        context.close(promise: nil)
    }

    // MARK: Sending

    /// An invoke id for a switch-initiated request or event (BER 1…32767; XML requests 1…9998).
    private func invokeId() -> Int64 {
        nextInvokeId = nextInvokeId % (configuration.encoding == .ber ? 32767 : 9998) + 1
        return nextInvokeId
    }

    func sendEvent(_ event: SwitchEvent, crossRef: String, observer: String) {
        let xml = configuration.encoding == .xml
        let id = xml ? 9999 : invokeId()
        let record = event.record(monitorCrossRefID: crossRef, observer: observer, invokeId: id)
        if heldBackEvents != nil {
            heldBackEvents?.append((record, 9999))
        } else {
            send(record, headerInvokeId: 9999)
        }
    }

    func sendRouteRequest(_ request: RouteRequestNotice) {
        let id = invokeId()
        send(
            CSTARecord([
                "pdu": .string("invoke"), "invokeId": .int(id), "op": .int(31), "service": .string("RouteRequest"),
                "routeingCrossRefID": .string(request.routeingCrossRefID), "currentRoute": .string(request.routePoint),
                "calling": .string(request.calling), "device": .string(request.routePoint), "callID": .string(request.callID),
            ]), headerInvokeId: id)
    }

    private func sendSystemStatus() {
        let id = invokeId()
        unansweredSystemStatus += 1
        send(
            CSTARecord([
                "pdu": .string("invoke"), "invokeId": .int(id), "op": .int(211), "service": .string("SystemStatus"),
                "systemStatus": .string("normal"),
            ]), headerInvokeId: id)
    }

    private func startSupervision() {
        guard let context, let interval = configuration.systemStatusInterval else { return }
        timers.append(
            LoopTimer.repeating(on: context.eventLoop, every: interval) { [self] in
                if unansweredSystemStatus >= configuration.systemStatusMissesAllowed {
                    logger.warning("SystemStatus unanswered, closing the link", metadata: ["missed": "\(unansweredSystemStatus)"])
                    self.context?.close(promise: nil)
                    return
                }
                sendSystemStatus()
            })
    }

    /// Encodes, frames and writes one message (in pieces when the split fault is on).
    func send(_ record: CSTARecord, headerInvokeId: Int64) {
        guard let context, !halfOpen else { return }
        var bytes: [UInt8] = []
        do {
            let payload = configuration.encoding == .ber ? try BERCodec.encode(record) : try XMLCodec.encode(record)
            let headerId = Int((0...9999).contains(headerInvokeId) ? headerInvokeId : 9999)
            try CSTAFrameWriter.write(payload, framing: configuration.framing, invokeId: headerId, to: &bytes)
        } catch {
            logger.error("cannot encode an outgoing message", metadata: ["error": "\(error)", "record": "\(record.values)"])
            return
        }
        write(bytes, context: context)
    }

    private func write(_ bytes: [UInt8], context: ChannelHandlerContext) {
        let piece = splitBytes ?? bytes.count
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + piece)
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes[start..<end])), promise: nil)
            if splitBytes != nil { context.flush() }
            start = end
        }
        context.flush()
    }

    // MARK: Faults

    private var rejectShare: Double? {
        configuration.faults.lazy.compactMap { if case .reject(let p) = $0 { p } else { nil } }.first
    }
    private var slowDelay: TimeAmount? {
        configuration.faults.lazy.compactMap { if case .slow(let t) = $0 { t } else { nil } }.first
    }
    private var splitBytes: Int? {
        configuration.faults.lazy.compactMap { if case .split(let n) = $0 { n } else { nil } }.first
    }

    /// Closes the connection at once (the `drop` fault).
    func injectDrop() {
        guard let context, !halfOpen else { return }
        logger.notice("fault: dropping the link")
        context.close(promise: nil)
    }

    /// Stops reading and writing without closing (the `halfopen` fault): no FIN, no RST, just silence.
    func injectHalfOpen() {
        guard let context, !halfOpen else { return }
        logger.notice("fault: going half-open (no reads, no writes, no FIN)")
        halfOpen = true
        context.channel.setOption(ChannelOptions.autoRead, value: false).whenComplete { _ in }
        for timer in timers { timer.cancel() }
        sessionExpiry?.cancel()
    }

    /// Writes bytes that are no frame (the `garbage` fault).
    func injectGarbage() {
        guard let context, !halfOpen else { return }
        logger.notice("fault: sending garbage")
        var junk: [UInt8] = [0xFF, 0xFE]
        for _ in 0..<14 { junk.append(UInt8.random(in: 0x80...0xFF, using: &random)) }
        write(junk, context: context)
    }
}

@available(*, unavailable)
extension SwitchSessionHandler: Sendable {}
