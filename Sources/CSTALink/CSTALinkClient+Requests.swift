import CSTA
import Logging
import Metrics
import NIOCore

extension CSTALinkClient {
    // MARK: Requests

    /// Sends one request and waits for its answer.
    ///
    /// The record is a key-set request (`service` and/or `op`, plus the service's keys); the link adds the invoke id.
    /// - Parameters:
    ///   - record: the request, e.g. `["service": .string("MakeCall"), "op": .int(10), "calling": …, "called": …]`.
    ///   - timeout: how long to wait for the answer (default ``LinkConfiguration/requestTimeout``).
    /// - Returns: the returnResult / positive response.
    /// - Throws: ``CSTAServiceError`` for returnError, reject, CSTAErrorCode and NegResponse; ``CSTALinkError`` for
    ///   link down, timeout, too many requests in flight, or a record that cannot be encoded.
    public func request(_ record: CSTARecord, timeout: Duration? = nil) async throws -> CSTAResult {
        guard isUp else { throw CSTALinkError(.linkDown, "the link is not up") }
        return try await send(record, timeout: timeout)
    }

    /// ``request(_:timeout:)`` with the record's keys.
    public func request(_ keys: [String: CSTARecord.Value], timeout: Duration? = nil) async throws -> CSTAResult {
        try await request(CSTARecord(keys), timeout: timeout)
    }

    func send(_ keys: [String: CSTARecord.Value], timeout: Duration? = nil) async throws -> CSTAResult {
        try await send(CSTARecord(keys), timeout: timeout)
    }

    /// Sends without waiting for the link to be up (start-up traffic). `monitoring`: a MonitorStart's device.
    func send(_ record: CSTARecord, timeout: Duration? = nil, monitoring: String? = nil) async throws -> CSTAResult {
        guard let gen = connection?.generation, isCurrent(gen) else { throw CSTALinkError(.linkDown, "not connected") }
        try await acquireSlot()
        guard let conn = connection, isCurrent(gen) else {
            releaseSlot()
            throw CSTALinkError(.linkDown, "connection lost")
        }
        guard let id = allocator.allocate() else {
            releaseSlot()
            throw CSTALinkError(.invokeIdsExhausted)
        }
        var r = record
        r["pdu"] = .string("invoke")
        r["invokeId"] = .int(Int64(id))
        let buffer: ByteBuffer
        do {
            buffer = try frame(r, invokeId: id)
        } catch {
            allocator.release(id)
            releaseSlot()
            throw CSTALinkError(.encodeFailed, "\(error)")
        }
        let service = record.string("service") ?? record.int("op").flatMap { CSTANames.serviceName(forOperation: Int32($0)) }
        serial &+= 1
        let mySerial = serial
        let wait = timeout ?? configuration.requestTimeout
        return try await withCheckedThrowingContinuation { continuation in
            let timer = Task { [weak self] in
                try? await Task.sleep(for: wait)
                if Task.isCancelled { return }
                await self?.expire(id, serial: mySerial, after: wait)
            }
            pending[id] = Pending(
                continuation: continuation, service: service, serial: mySerial, timeout: timer, monitoredDevice: monitoring)
            peakRequestsInFlight = max(peakRequestsInFlight, pending.count)
            conn.out.yield(buffer)
        }
    }

    /// Frames a record for this link's encoding and framing.
    func frame(_ record: CSTARecord, invokeId: Int) throws -> ByteBuffer {
        let payload = configuration.encoding == .ber ? try BERCodec.encode(record) : try XMLCodec.encode(record)
        var out: [UInt8] = []
        out.reserveCapacity(payload.count + 8)
        try CSTAFrameWriter.write(payload, framing: configuration.framing, invokeId: invokeId, to: &out)
        return ByteBuffer(bytes: out)
    }

    /// Sends a message that expects no answer (answers to the switch, the AARQ).
    func post(_ record: CSTARecord, invokeId: Int = 9999) {
        guard let conn = connection else { return }
        do {
            conn.out.yield(try frame(record, invokeId: invokeId))
        } catch {
            logger.error("cannot encode", metadata: ["error": "\(error)", "pdu": "\(record.string("pdu") ?? "?")"])
        }
    }

    func acquireSlot() async throws {
        if slotsUsed < configuration.maxRequestsInFlight {
            slotsUsed += 1
            return
        }
        guard configuration.whenFull == .wait else {
            throw CSTALinkError(.tooManyRequests, "\(slotsUsed) requests in flight")
        }
        try await withCheckedThrowingContinuation { slotWaiters.append($0) }  // the slot is handed over
    }

    func releaseSlot() {
        if slotWaiters.isEmpty {
            slotsUsed = max(0, slotsUsed - 1)
        } else {
            slotWaiters.removeFirst().resume()
        }
    }

    func finish(_ id: Int) -> Pending? {
        guard let p = pending.removeValue(forKey: id) else { return nil }
        p.timeout.cancel()
        allocator.release(id)
        releaseSlot()
        return p
    }

    func expire(_ id: Int, serial: UInt64, after wait: Duration) {
        guard pending[id]?.serial == serial, let p = finish(id) else { return }
        logger.warning("request timed out", metadata: ["invokeId": "\(id)", "service": "\(p.service ?? "?")"])
        p.continuation.resume(throwing: CSTALinkError(.timeout, "\(p.service ?? "request") \(id): no answer within \(wait)"))
    }

    func failAll(_ error: CSTALinkError) {
        for id in Array(pending.keys) {
            finish(id)?.continuation.resume(throwing: error)
        }
        for w in slotWaiters { w.resume(throwing: error) }
        slotWaiters.removeAll()
        slotsUsed = 0
        unanswered.removeAll()
        allocator.releaseAll()
    }

    // MARK: Inbound

    func receive(_ frame: CSTAFrame, generation gen: Int) {
        guard isCurrent(gen) else { return }
        lastInbound = clock.now
        if let error = frame.error {
            frameErrors.increment()
            logger.warning("bad frame skipped", metadata: ["error": "\(error)"])
            return
        }
        let message: CSTAMessage
        do {
            message = try frame.decode()
        } catch {
            decodeErrors.increment()
            // The hex (at most 256 bytes) lets an integrator reproduce it with `ctibridge decode --hex`.
            let hex = frame.payload.readableBytesView.prefix(256).map { byte in
                let digits = Array("0123456789abcdef".utf8)
                return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
            }.joined()
            logger.warning(
                "undecodable frame",
                metadata: ["error": "\(error)", "bytes": "\(frame.payload.readableBytes)", "hex": "\(hex)"])
            return
        }
        let record = message.record()
        switch record.string("pdu") {
        case "aare":
            association?.resume(returning: record)
            association = nil
        case "abrt", "rlrq":
            logger.warning("switch released the association", metadata: ["pdu": "\(record.string("pdu") ?? "")"])
            connection?.channel.close(promise: nil)
        case "returnResult", "returnError", "reject":
            if let id = record.int("invokeId").map(Int.init), pending[id] == nil,
                let service = unanswered.removeValue(forKey: id)
            {
                answeredAnyway(message, record, invokeId: id, service: service)
                return
            }
            guard let id = record.int("invokeId").map(Int.init), let p = finish(id) else {
                logger.notice("answer for no request in flight", metadata: ["invokeId": "\(record.int("invokeId") ?? -1)"])
                return
            }
            if record.string("pdu") == "returnResult" {
                if let device = p.monitoredDevice, let xref = record.string("monitorCrossRefID") {
                    mapCrossReference(xref, to: device)
                }
                p.continuation.resume(returning: CSTAResult(message: message, record: record))
            } else {
                p.continuation.resume(throwing: CSTAServiceError(record: record, service: p.service))
            }
        default:
            unsolicited(message, record)
        }
    }

    func unsolicited(_ message: CSTAMessage, _ record: CSTARecord) {
        let op = record.int("op")
        let service = record.string("service")
        if op == 211 || op == 52 || service == "SystemStatus" {
            switchStatusSeen = true
            var answer = CSTARecord(["pdu": .string("returnResult"), "service": .string("SystemStatus"), "op": .int(op ?? 211)])
            let id = record.int("invokeId") ?? 9999
            answer["invokeId"] = .int(id)
            post(answer, invokeId: Int(id))
        }
        if service == "ApplicationSessionTerminated" {
            logger.warning("DMCC session terminated by the switch")
            connection?.channel.close(promise: nil)
        }
        var device: String?
        if let xref = record.string("monitorCrossRefID") { device = deviceByCrossRef[xref] }
        sink.yield(.message(CSTAEventMessage(message: message, record: record, device: device)))
    }

    // MARK: Start-up steps

    func associate() async throws {
        var aarq = CSTARecord([
            "pdu": .string("aarq"), "applicationContext": .string(configuration.applicationContext),
        ])
        if !configuration.cstaVersions.isEmpty { aarq["cstaVersions"] = .strings(configuration.cstaVersions) }
        var name = configuration.credentials.aarqName
        var password = configuration.credentials.aarqPassword
        if configuration.flavour == .hipathBER && name == nil {
            name = "AMHOST"
            password = password ?? "77777"
        }
        if let name {
            aarq["authenticationName"] = .string(name)
            aarq["authenticationPassword"] = .string(password ?? "")
        }
        let timeout = configuration.connectTimeout
        let timer = Task { [weak self] in
            try? await Task.sleep(for: timeout)
            if !Task.isCancelled { await self?.associationTimedOut() }
        }
        defer { timer.cancel() }
        let aare = try await withCheckedThrowingContinuation { continuation in
            association = continuation
            post(aarq)
        }
        let result = aare.string("result") ?? "accepted"
        guard result == "accepted" else { throw CSTALinkError(.associationRejected, "AARE result \(result)") }
        acceptedVersions = aare.strings("cstaVersions") ?? []
        logger.info("associated", metadata: ["cstaVersions": "\(acceptedVersions)"])
    }

    func associationTimedOut() {
        association?.resume(throwing: CSTALinkError(.timeout, "no AARE"))
        association = nil
    }

    func register() async throws {
        let r = try await send(["service": .string("SystemRegister"), "op": .int(207)])
        sysStatRegisterID = r.record.string("sysStatRegisterID")
    }

    func startApplicationSession() async throws {
        let credentials = configuration.credentials
        var r = CSTARecord([
            "service": .string("StartApplicationSession"),
            "applicationID": .string(credentials.applicationID),
            "protocolVersion": .string("http://www.ecma-international.org/standards/ecma-323/csta/ed3"),
            "sessionDuration": .int(Int64(configuration.sessionDuration)),
        ])
        // Avaya SessionLoginInfo (`csta-notes.md` "DMCC XML session"). The record is never logged: it holds the password.
        if let user = credentials.dmccUser { r["authenticationName"] = .string(user) }
        if let password = credentials.dmccPassword { r["authenticationPassword"] = .string(password) }
        if let delay = configuration.sessionCleanupDelay { r["sessionCleanupDelay"] = .int(Int64(delay)) }
        let answer: CSTAResult
        do {
            answer = try await send(r)
        } catch let error as CSTAServiceError {
            throw Self.sessionRefused(error, user: credentials.dmccUser)
        }
        sessionID = answer.record.string("sessionID")
        sessionDuration = Int(answer.record.int("sessionDuration") ?? Int64(configuration.sessionDuration))
        lastSessionReset = clock.now
        guard sessionID != nil else { throw CSTALinkError(.protocolViolation, "no sessionID") }
    }

    /// StartApplicationSessionNegResponse → ``CSTALinkError``: ``CSTALinkError/Code/authenticationFailed`` when the
    /// error names the log-in (ECMA-354 `invalidApplicationInfo`, which AES answers to a wrong user name or password,
    /// or a vendor value that mentions authentication, log-in or password), else
    /// ``CSTALinkError/Code/associationRejected``.
    static func sessionRefused(_ error: CSTAServiceError, user: String?) -> CSTALinkError {
        let value = error.value ?? ""
        let lowered = value.lowercased()
        let isLogin =
            value == "invalidApplicationInfo" || lowered.contains("auth") || lowered.contains("login")
            || lowered.contains("password")
        let detail = "\(error.category ?? "error")/\(value.isEmpty ? "unspecified" : value)"
        guard isLogin else { return CSTALinkError(.associationRejected, "StartApplicationSession refused: \(detail)") }
        let who = user.map { "user \"\($0)\"" } ?? "no user name configured"
        return CSTALinkError(.authenticationFailed, "the switch refused the DMCC log-in (\(who)): \(detail)")
    }

    func resetSessionTimer() async throws {
        guard let sessionID else { return }
        _ = try await send([
            "service": .string("ResetApplicationSessionTimer"), "sessionID": .string(sessionID),
            "sessionDuration": .int(Int64(configuration.sessionDuration)),
        ])
    }

    func keepAlive() async throws {
        _ = try await send(["service": .string("SystemStatus"), "op": .int(211), "systemStatus": .string("normal")])
    }
}
