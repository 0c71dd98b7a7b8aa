import CSTA
import Logging
import NIOCore

@testable import CSTALink

/// Collects a link's events so tests can wait for one with a deadline.
actor EventLog {
    private(set) var events: [LinkEvent] = []
    private var task: Task<Void, Never>?

    init(_ link: CSTALinkClient) {
        let stream = link.events
        Task { await self.consume(stream) }
    }

    private func consume(_ stream: AsyncStream<LinkEvent>) async {
        for await e in stream { events.append(e) }
    }

    /// The first event (from `start`) matching `predicate`, polling until `within` has passed.
    func first(from start: Int = 0, within: Duration = .seconds(5), where predicate: (LinkEvent) -> Bool) async -> (Int, LinkEvent)? {
        let deadline = ContinuousClock.now + within
        var i = start
        while true {
            while i < events.count {
                if predicate(events[i]) { return (i, events[i]) }
                i += 1
            }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    var count: Int { events.count }
}

extension LinkEvent {
    var linkState: LinkStateChange.State? {
        if case .state(let s) = self { return s.state }
        return nil
    }
    var stateChange: LinkStateChange? {
        if case .state(let s) = self { return s }
        return nil
    }
    var cstaMessage: CSTAEventMessage? {
        if case .message(let m) = self { return m }
        return nil
    }
    var snapshotDevice: String? {
        if case .snapshot(let d, _) = self { return d }
        return nil
    }
}

/// Polls `condition` until it holds or `within` passes.
func eventually(within: Duration = .seconds(5), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + within
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

func testConfig(_ flavour: LinkConfiguration.Flavour, port: Int) -> LinkConfiguration {
    var c = LinkConfiguration(host: "127.0.0.1", port: port, flavour: flavour)
    c.connectTimeout = .seconds(2)
    c.requestTimeout = .seconds(2)
    c.heartbeatInterval = .seconds(5)
    c.backoff = .init(initial: .milliseconds(20), maximum: .milliseconds(200), jitter: 0.2)
    return c
}

func quietLogger() -> Logger {
    var l = Logger(label: "test.link")
    l.logLevel = .critical
    return l
}
