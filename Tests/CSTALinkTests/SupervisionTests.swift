import CSTA
import NIOCore
import NIOPosix
import Testing

@testable import CSTALink

@Suite(.timeLimit(.minutes(1))) struct SupervisionTests {
    @Test func reconnectRestartsMonitorsAndResyncs() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        let link = CSTALinkClient(configuration: testConfig(.hipathBER, port: sw.port), logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001", "4002", "4003"])
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))
        let before = await ["4001", "4002", "4003"].asyncMap { await link.crossReference(for: $0) }

        sw.dropConnections()
        let down = await log.first { $0.linkState == .down }
        #expect(down?.1.stateChange?.reason == "closed by peer")
        let up = await log.first(from: down?.0 ?? 0) { $0.linkState == .up }
        #expect(up?.1.stateChange?.attempt == 2)
        #expect(up?.1.stateChange?.monitors == 3)
        #expect(sw.state.with { $0.connections } == 2)
        #expect(sw.state.with { $0.requests.filter { $0.string("pdu") == "aarq" }.count } == 2)

        // New cross-reference ids, mapped to the same devices; a snapshot per device after the restart.
        let after = await ["4001", "4002", "4003"].asyncMap { await link.crossReference(for: $0) }
        #expect(after.allSatisfy { $0 != nil })
        #expect(Set(after).isDisjoint(with: Set(before)))
        #expect(sw.state.requests("MonitorStart").count == 6)
        #expect(sw.state.requests("SnapshotDevice").count == 6)
        #expect(await eventually { sw.state.with { $0.systemStatusAnswers } == 2 })

        // Events on the new cross-reference id arrive for the right device.
        let mark = await log.count
        sw.sendEvent(device: "4002")
        let event = await log.first(from: mark) { $0.cstaMessage?.record.string("event") == "originated" }
        #expect(event?.1.cstaMessage?.device == "4002")
        #expect(event?.1.cstaMessage?.record.string("monitorCrossRefID") == after[1])
        await link.shutdown()
        await sw.shutdown()
    }

    @Test func halfOpenSwitchIsDetectedWithinTwiceTheHeartbeat() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        var config = testConfig(.hipathBER, port: sw.port)
        // Short enough for a test, long enough that the other suites running beside it under `swift test` (the
        // end-to-end bridge runs among them) cannot starve the keep-alive answers into a false "dead".
        config.heartbeatInterval = .seconds(1)
        config.keepAliveTimeout = .milliseconds(900)
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001"])
        await link.start()
        #expect(await link.waitUntilUp(timeout: .seconds(5)))

        // While the switch answers, idle heartbeats keep the link up (from the link-up on: on a loaded machine the
        // start-up itself may have needed a second try).
        _ = await eventually { await log.events.last(where: { $0.linkState != nil })?.linkState == .up }
        let upIndex = await log.events.lastIndex { $0.linkState == .up } ?? 0
        try await Task.sleep(for: .milliseconds(3500))
        #expect(sw.state.requests("SystemStatus").count >= 2, "no keep-alives sent")
        let early = await log.first(from: upIndex, within: .zero) { $0.linkState == .down }
        #expect(early == nil, "down while the switch answered: \(early?.1.stateChange?.reason ?? "")")

        // Half-open: the switch reads nothing and writes nothing, the socket stays open.
        sw.state.with { $0.halfOpen = true }
        let silentSince = ContinuousClock.now
        let down = await log.first(within: .seconds(8)) { $0.linkState == .down }
        let detected = ContinuousClock.now - silentSince
        #expect(down?.1.stateChange?.reason.hasPrefix("dead link") == true)
        // Twice the heartbeat, plus slack for a loaded two-core machine (the strict bound on a quiet machine is
        // measured by Benchmarks/link/fault_soak.py).
        #expect(detected <= .seconds(2) + .seconds(2), "dead link seen after \(detected)")

        // The switch recovers: the link reconnects and comes back up.
        sw.state.with { $0.halfOpen = false }
        #expect(await log.first(from: down?.0 ?? 0) { $0.linkState == .up } != nil)
        #expect(await link.crossReference(for: "4001") != nil)
        await link.shutdown()
        await sw.shutdown()
    }

    /// The switch answers the association, then goes half-open at the first MonitorStart: the link does not wait for
    /// every start-up request to time out (30 s here) nor come up with failed monitors; it finds the silence after the
    /// dead-link interval (1 s), reconnects and comes up with every monitor.
    @Test func halfOpenDuringStartUpIsDetectedWithinTheDeadLinkInterval() async throws {
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        sw.state.with { $0.halfOpenAtService = "MonitorStart" }
        var config = testConfig(.hipathBER, port: sw.port)
        config.heartbeatInterval = .milliseconds(500)
        config.requestTimeout = .seconds(30)
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001", "4002"])
        let started = ContinuousClock.now
        await link.start()
        let down = await log.first(within: .seconds(20)) { $0.linkState == .down }
        let detected = ContinuousClock.now - started
        #expect(down?.1.stateChange?.reason.hasPrefix("dead link during start-up") == true, "\(down?.1.stateChange?.reason ?? "no down")")
        // 1 s of silence plus slack for a loaded machine (connect and association included); without the watchdog
        // it is the 30 s request timeout.
        #expect(detected < .seconds(12), "dead link seen after \(detected)")
        let up = await log.first(from: down?.0 ?? 0, within: .seconds(15)) { $0.linkState == .up }
        #expect(up?.1.stateChange?.monitors == 2 && up?.1.stateChange?.failedMonitors == 0)
        #expect(await log.first(within: .zero) { $0.linkState == .up && $0.stateChange?.failedMonitors != 0 } == nil)
        #expect(sw.state.with { $0.connections } >= 2)
        await link.shutdown()
        await sw.shutdown()
    }

    @Test func reconnectsWhenTheSwitchIsNotThereYet() async throws {
        // Reserve a port, close it, start the link, then start the switch on another port is impossible; instead
        // point the link at a closed port and check link-down with back-off, then shut down cleanly.
        let sw = try await FakeSwitch.start(mode: .hipath, framing: .hipath)
        let port = sw.port
        await sw.shutdown()
        let link = CSTALinkClient(configuration: testConfig(.hipathBER, port: port), logger: quietLogger())
        let log = EventLog(link)
        await link.start()
        let down = await log.first { $0.linkState == .down }
        #expect(down?.1.stateChange?.reason.hasPrefix("connect failed") == true)
        await link.shutdown()
        await #expect(throws: CSTALinkError(.linkDown)) { _ = try await link.makeCall(from: "1", to: "2") }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async -> T) async -> [T] {
        var out: [T] = []
        for e in self { out.append(await transform(e)) }
        return out
    }
}

@Suite(.timeLimit(.minutes(1))) struct ServerRoleTests {
    @Test func theSwitchDialsIn() async throws {
        var config = testConfig(.hipathBER, port: 0)
        config.role = .server
        let link = CSTALinkClient(configuration: config, logger: quietLogger())
        let log = EventLog(link)
        await link.addMonitors(["4001"])
        await link.start()
        #expect(await eventually { await link.listeningPort != nil })
        let port = try #require(await link.listeningPort)

        // The fake switch's handler, on a connection the switch opens.
        let state = FakeSwitchState()
        let dial = {
            try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let sync = channel.pipeline.syncOperations
                        try sync.addHandler(ByteToMessageHandler(CSTAFrameDecoder(framing: .hipath, encoding: .ber)))
                        try sync.addHandler(FakeSwitchHandler(state: state, mode: .hipath, encoding: .ber, framing: .hipath))
                    }
                }
                .connect(host: "127.0.0.1", port: port).get()
        }
        let first = try await dial()
        #expect(await log.first { $0.linkState == .up } != nil)
        _ = try await link.makeCall(from: "4001", to: "4711")
        #expect(await log.first { $0.cstaMessage?.device == "4001" } != nil)

        // The switch hangs up and dials in again: down, then up with the monitor restarted.
        try await first.close()
        let down = await log.first { $0.linkState == .down }
        #expect(down != nil)
        let second = try await dial()
        let up = await log.first(from: down?.0 ?? 0) { $0.linkState == .up }
        #expect(up?.1.stateChange?.monitors == 1)
        #expect(state.requests("MonitorStart").count == 2)
        try? await second.close()
        await link.shutdown()
    }
}
