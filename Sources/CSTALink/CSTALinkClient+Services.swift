import CSTA
import Logging

/// TSAPI-style services. Every method sends one request and returns the switch's answer (``CSTAResult``), or throws
/// ``CSTAServiceError`` (the switch said no) or ``CSTALinkError`` (link down, timeout, …). Call ids are the key set's
/// hex (BER) or text (XML) call ids; devices are key-set device strings.
extension CSTALinkClient {
    // MARK: Monitors

    /// Adds devices to the monitored set without starting them: they are started at the next link-up (use before
    /// ``start()``). Already monitored devices are ignored.
    public func addMonitors(_ devices: [String]) {
        for d in devices where !monitorOrder.contains(d) { monitorOrder.append(d) }
    }

    /// Starts monitoring one device and keeps it monitored across reconnects.
    /// - Returns: the monitor cross-reference id.
    @discardableResult
    public func monitorStart(_ device: String) async throws -> String {
        guard isUp else { throw CSTALinkError(.linkDown, "the link is not up") }
        let xref = try await startMonitor(device)
        if !monitorOrder.contains(device) { monitorOrder.append(device) }
        return xref
    }

    /// Starts many monitors at once, pipelined (up to ``LinkConfiguration/maxRequestsInFlight`` in flight).
    /// - Returns: the devices whose monitor could not be started, with the error.
    public func monitorStart(devices: [String]) async -> [String: any Error] {
        guard isUp else { return Dictionary(devices.map { ($0, CSTALinkError(.linkDown) as any Error) }) { a, _ in a } }
        addMonitors(devices)
        return await startMonitors(devices)
    }

    /// Stops monitoring a device (and stops restarting it after reconnects).
    public func monitorStop(_ device: String) async throws {
        monitorOrder.removeAll { $0 == device }
        guard let xref = crossRefByDevice.removeValue(forKey: device) else { return }
        deviceByCrossRef[xref] = nil
        _ = try await request(["service": .string("MonitorStop"), "op": .int(73), "monitorCrossRefID": .string(xref)])
    }

    func startMonitor(_ device: String) async throws -> String {
        var object = device
        if configuration.flavour == .dmccXML {
            if let id = dmccDeviceIds[device] {
                object = id
            } else {
                let r = try await send(["service": .string("GetDeviceId"), "device": .string(device)])
                guard let id = r.record.string("device") else { throw CSTALinkError(.protocolViolation, "GetDeviceId without a device") }
                dmccDeviceIds[device] = id
                object = id
            }
        }
        let r = try await send(
            CSTARecord(["service": .string("MonitorStart"), "op": .int(71), "monitorObject": .string(object)]),
            monitoring: device)
        guard let xref = r.record.string("monitorCrossRefID") else {
            throw CSTALinkError(.protocolViolation, "MonitorStart result without a cross-reference id")
        }
        mapCrossReference(xref, to: device)  // done already when the answer arrived; kept for clarity of the result
        return xref
    }

    /// Maps a monitor's cross-reference id to its device (replacing the device's previous monitor).
    func mapCrossReference(_ xref: String, to device: String) {
        if let old = crossRefByDevice[device], old != xref { deviceByCrossRef[old] = nil }
        crossRefByDevice[device] = xref
        deviceByCrossRef[xref] = device
    }

    func startMonitors(_ devices: [String]) async -> [String: any Error] {
        await withTaskGroup(of: (String, (any Error)?).self) { tasks in
            for device in devices {
                tasks.addTask {
                    do {
                        _ = try await self.startMonitor(device)
                        return (device, nil)
                    } catch {
                        return (device, error)
                    }
                }
            }
            var failed: [String: any Error] = [:]
            for await (device, error) in tasks {
                if let error { failed[device] = error }
            }
            return failed
        }
    }

    /// Restarts every monitor after a (re)connect. Returns (started, failed).
    func restartMonitors() async -> (Int, Int) {
        let devices = monitorOrder
        let failed = await startMonitors(devices)
        for (device, error) in failed {
            logger.warning("monitor not restarted", metadata: [
                "device": "\(NumberMask.mask(device, enabled: configuration.maskNumbersInLogs))", "error": "\(error)",
            ])
        }
        return (devices.count - failed.count, failed.count)
    }

    /// SnapshotDevice for every monitored device (pipelined), published as ``LinkEvent/snapshot(device:result:)``.
    func snapshotMonitoredDevices() async {
        let devices = monitorOrder.filter { crossRefByDevice[$0] != nil }
        await withTaskGroup(of: Void.self) { tasks in
            for device in devices {
                tasks.addTask {
                    do {
                        let r = try await self.send(["service": .string("SnapshotDevice"), "op": .int(74), "device": .string(device)])
                        await self.publishSnapshot(device, r)
                    } catch {
                        await self.logSnapshotFailure(device, error)
                    }
                }
            }
        }
    }

    func publishSnapshot(_ device: String, _ r: CSTAResult) {
        sink.yield(.snapshot(device: device, result: CSTAEventMessage(message: r.message, record: r.record, device: device)))
    }

    func logSnapshotFailure(_ device: String, _ error: any Error) {
        logger.warning("snapshot failed", metadata: [
            "device": "\(NumberMask.mask(device, enabled: configuration.maskNumbersInLogs))", "error": "\(error)",
        ])
    }

    // MARK: Call control

    func call(_ service: String, _ op: Int64, _ keys: [String: CSTARecord.Value]) async throws -> CSTAResult {
        var r = CSTARecord(keys)
        r["service"] = .string(service)
        r["op"] = .int(op)
        return try await request(r)
    }

    static func connection(_ callID: String, _ device: String?) -> [String: CSTARecord.Value] {
        var k: [String: CSTARecord.Value] = ["callID": .string(callID)]
        if let device { k["connDevice"] = .string(device) }
        return k
    }

    /// MakeCall: `calling` goes off-hook and dials `called`. The result carries the new connection (`callID`).
    public func makeCall(from calling: String, to called: String) async throws -> CSTAResult {
        try await call("MakeCall", 10, ["calling": .string(calling), "called": .string(called)])
    }

    /// AnswerCall on the alerting connection.
    public func answerCall(callID: String, device: String) async throws -> CSTAResult {
        try await call("AnswerCall", 2, Self.connection(callID, device))
    }

    /// ClearConnection: one party leaves; `reason` is an EventCause name or number.
    public func clearConnection(callID: String, device: String, reason: String? = nil) async throws -> CSTAResult {
        var k = Self.connection(callID, device)
        if let reason { k["reason"] = .string(reason) }
        return try await call("ClearConnection", 5, k)
    }

    /// ClearCall: the whole call ends.
    public func clearCall(callID: String, device: String? = nil) async throws -> CSTAResult {
        try await call("ClearCall", 4, Self.connection(callID, device))
    }

    /// HoldCall.
    public func holdCall(callID: String, device: String) async throws -> CSTAResult {
        try await call("HoldCall", 9, Self.connection(callID, device))
    }

    /// RetrieveCall.
    public func retrieveCall(callID: String, device: String) async throws -> CSTAResult {
        try await call("RetrieveCall", 14, Self.connection(callID, device))
    }

    /// ConsultationCall: holds `callID` at `device` and dials `to`.
    public func consultationCall(callID: String, device: String, to consulted: String) async throws -> CSTAResult {
        var k = Self.connection(callID, device)
        k["called"] = .string(consulted)  // BER consultedDevice
        k["otherDevice"] = .string(consulted)  // XML consultedDevice
        return try await call("ConsultationCall", 7, k)
    }

    /// TransferCall: joins the held call and the active (consultation) call, `device` drops out.
    public func transferCall(heldCallID: String, device: String, activeCallID: String) async throws -> CSTAResult {
        var k = Self.connection(heldCallID, device)
        k["secondaryCallID"] = .string(activeCallID)
        return try await call("TransferCall", 16, k)
    }

    /// ConferenceCall: joins the held call and the active call into one.
    public func conferenceCall(heldCallID: String, device: String, activeCallID: String) async throws -> CSTAResult {
        var k = Self.connection(heldCallID, device)
        k["secondaryCallID"] = .string(activeCallID)
        return try await call("ConferenceCall", 6, k)
    }

    /// SingleStepTransfer: moves the call at `device` to `to` without consultation.
    public func singleStepTransfer(callID: String, device: String, to target: String) async throws -> CSTAResult {
        var k = Self.connection(callID, device)
        k["otherDevice"] = .string(target)
        return try await call("SingleStepTransferCall", 50, k)
    }

    /// DeflectCall: sends an alerting call elsewhere.
    public func deflectCall(callID: String, device: String, to target: String) async throws -> CSTAResult {
        var k = Self.connection(callID, device)
        k["otherDevice"] = .string(target)
        return try await call("DeflectCall", 218, k)
    }

    // MARK: Agents, snapshots, escape

    /// SetAgentState: `state` is a requested agent state (`loggedOn`, `loggedOff`, `ready`, `notReady`, `workingAfterCall`
    /// or its number). The codec's SetAgentState carries no reason code; pass one in `privateData` (hex) if the switch
    /// takes it there.
    public func setAgentState(
        device: String, state: String, agentID: String? = nil, group: String? = nil, privateData: String? = nil
    ) async throws -> CSTAResult {
        var k: [String: CSTARecord.Value] = ["device": .string(device), "requestedAgentState": .string(state)]
        if let agentID { k["agentID"] = .string(agentID) }
        if let group { k["acdGroup"] = .string(group) }
        if let privateData { k["privateData"] = .string(privateData) }
        return try await call("SetAgentState", 312, k)
    }

    /// GetAgentState: the result has `agentState`, `agentID`, `acdGroup` where the switch sends them.
    public func getAgentState(device: String, group: String? = nil) async throws -> CSTAResult {
        var k: [String: CSTARecord.Value] = ["device": .string(device)]
        if let group { k["acdGroup"] = .string(group) }
        return try await call("GetAgentState", 304, k)
    }

    /// SnapshotDevice: the calls at a device (`snapshotCallIDs`).
    public func snapshotDevice(_ device: String) async throws -> CSTAResult {
        try await call("SnapshotDevice", 74, ["device": .string(device)])
    }

    /// SnapshotCall: the devices on a call (`snapshotDevices`).
    public func snapshotCall(callID: String, device: String? = nil) async throws -> CSTAResult {
        try await call("SnapshotCall", 75, Self.connection(callID, device))
    }

    /// Escape with private data (hex bytes, opaque, vendor-specific).
    public func escape(privateData: String) async throws -> CSTAResult {
        try await call("Escape", 51, ["privateData": .string(privateData)])
    }
}
