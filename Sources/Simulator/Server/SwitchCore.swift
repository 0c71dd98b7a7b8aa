import CallModel
import CSTA
import Foundation
import Logging
import NIOCore

/// The switch as the connections see it: the model, the links and their monitors. Bound to the simulator's one
/// event loop; every change to the model goes through ``perform(_:)`` so its events reach the monitors.
final class SwitchCore {
    struct Monitor {
        var session: Int
        var device: String
    }

    let configuration: SimulatorConfiguration
    let logger: Logger
    let eventLoop: any EventLoop
    var loadGenerator: LoadGenerator?
    var model: SwitchModel
    private(set) var sessions: [Int: SwitchSessionHandler] = [:]
    private(set) var monitors: [String: Monitor] = [:]
    /// Routeing cross-reference id → the links its RouteRequest went to: only they may answer it.
    private(set) var routeRecipients: [String: Set<Int>] = [:]
    private var nextSessionID = 1
    private var nextCrossRef = 1
    /// Receives every finished call's truth record.
    var truthSink: ((CallTruthRecord) -> Void)?
    /// Receives every event the model raises (the load generator reacts to them).
    var eventListeners: [(SwitchEvent) -> Void] = []
    var routeRequestListeners: [(RouteRequestNotice) -> Void] = []
    var now: () -> Date = { Date() }
    /// The timed faults (drop, half-open, garbage) run on the switch's clock, not per link: "a drop every 15 s and a
    /// half-open every 40 s" hits whichever links are connected at that moment, however often they reconnect.
    private var faultTimers: [LoopTimer] = []

    init(configuration: SimulatorConfiguration, logger: Logger, eventLoop: any EventLoop) {
        self.configuration = configuration
        self.eventLoop = eventLoop
        self.logger = logger
        self.model = SwitchModel(
            numbering: configuration.numbering, afterCallWork: configuration.afterCallWork,
            agentsReady: configuration.agentsReady, now: Date())
    }

    /// Starts the fault schedule (on the switch's loop).
    func startFaultSchedule() {
        for fault in configuration.faults {
            let strike: (SwitchSessionHandler) -> Void
            let every: TimeAmount
            let limit: Int?
            switch fault {
            case .drop(let interval, let times):
                (every, limit, strike) = (interval, times, { $0.injectDrop() })
            case .halfOpen(let interval, let times):
                (every, limit, strike) = (interval, times, { $0.injectHalfOpen() })
            case .garbage(let interval, let times):
                (every, limit, strike) = (interval, times, { $0.injectGarbage() })
            case .split, .slow, .reject:
                continue
            }
            var struck = 0
            var timer: LoopTimer? = nil
            timer = LoopTimer.repeating(on: eventLoop, every: every) { [self] in
                if let limit, struck >= limit {
                    timer?.cancel()
                    return
                }
                struck += 1
                for session in sessions.values { strike(session) }
            }
            faultTimers.append(timer!)
        }
    }

    func stopFaultSchedule() {
        for timer in faultTimers { timer.cancel() }
        faultTimers = []
    }

    func stopLoad() {
        loadGenerator?.stop()
        loadGenerator = nil
    }

    // MARK: Sessions and monitors

    func register(_ session: SwitchSessionHandler) -> Int {
        let id = nextSessionID
        nextSessionID += 1
        sessions[id] = session
        return id
    }

    func unregister(_ id: Int) {
        sessions[id] = nil
        monitors = monitors.filter { $0.value.session != id }
        var orphaned: [String] = []
        for (crossRef, links) in routeRecipients where links.contains(id) {
            let left = links.subtracting([id])
            routeRecipients[crossRef] = left.isEmpty ? nil : left
            if left.isEmpty { orphaned.append(crossRef) }
        }
        for crossRef in orphaned.sorted() { defaultRoute(crossRef, why: "the link that got the route request is gone") }
    }

    /// MonitorStart: a new cross-reference id for `device` on `session`.
    func startMonitor(device: String, session: Int) throws(SwitchError) -> String {
        guard model.isInternal(device) else { throw .invalidDeviceID("\(device) is not on this switch") }
        let canonical = model.kind(of: device) == .acdGroup ? configuration.numbering.acdGroup : device
        let crossRef = SwitchModel.hexID(nextCrossRef, digits: 8)
        nextCrossRef += 1
        monitors[crossRef] = Monitor(session: session, device: canonical)
        return crossRef
    }

    func stopMonitor(crossRef: String, session: Int) throws(SwitchError) {
        guard let monitor = monitors[crossRef], monitor.session == session else {
            throw .invalidCrossRefID("no monitor \(crossRef) on this link")
        }
        monitors[crossRef] = nil
    }

    func monitorCount(session: Int) -> Int { monitors.values.filter { $0.session == session }.count }

    // MARK: Routing

    /// The links a RouteRequest for `routePoint` goes to: those that monitor the route point (the codec has no
    /// RouteRegister, so monitoring it is how an application registers as its router).
    func routeingLinks(for routePoint: String) -> [Int] {
        Set(monitors.values.filter { $0.device == routePoint }.map(\.session))
            .filter { sessions[$0]?.isAssociated == true }.sorted()
    }

    /// RouteSelectRequest (`destination`) or RouteEndRequest (`nil`: the default destination, the ACD group) from
    /// link `session`, which must be one the RouteRequest went to.
    func answerRoute(_ crossRef: String, destination: String?, session: Int) throws(SwitchError) {
        guard routeRecipients[crossRef]?.contains(session) == true else {
            throw .invalidCrossRefID("no route request \(crossRef) was sent to this link")
        }
        try perform { (m, now) throws(SwitchError) in
            if let destination {
                try m.routeSelect(routeingCrossRefID: crossRef, destination: destination, now: now)
            } else {
                try m.routeEnd(routeingCrossRefID: crossRef, now: now)
            }
        }
        routeRecipients[crossRef] = nil
    }

    /// No application (left) to answer: the call goes to the default destination at once.
    private func defaultRoute(_ crossRef: String, why: String) {
        guard model.pendingRoutes[crossRef] != nil else { return }
        logger.info("default route", metadata: ["routeingCrossRefID": "\(crossRef)", "why": "\(why)"])
        do {
            try perform { (m, now) throws(SwitchError) in try m.routeEnd(routeingCrossRefID: crossRef, now: now) }
        } catch {
            logger.warning("default route failed", metadata: ["routeingCrossRefID": "\(crossRef)", "error": "\(error)"])
        }
    }

    // MARK: Changing the switch

    /// Runs one model operation at the current time and delivers what it produced.
    @discardableResult
    func perform<T>(_ operation: (inout SwitchModel, Date) throws(SwitchError) -> T) throws(SwitchError) -> T {
        let result: T
        do {
            result = try operation(&model, now())
        } catch {
            _ = model.takeEffects()
            throw error
        }
        deliver(model.takeEffects())
        return result
    }

    private func deliver(_ effects: SwitchModel.Effects) {
        for event in effects.events {
            for (crossRef, monitor) in monitors.sorted(by: { $0.key < $1.key }) where event.observers[monitor.device] != nil {
                sessions[monitor.session]?.sendEvent(event, crossRef: crossRef, observer: monitor.device)
            }
        }
        var unrouted: [String] = []
        for request in effects.routeRequests {
            let links = routeingLinks(for: request.routePoint)
            logger.info(
                "route request",
                metadata: [
                    "routeingCrossRefID": "\(request.routeingCrossRefID)", "callID": "\(request.callID)", "links": "\(links)",
                ])
            guard !links.isEmpty else {
                unrouted.append(request.routeingCrossRefID)
                continue
            }
            routeRecipients[request.routeingCrossRefID] = Set(links)
            for id in links { sessions[id]?.sendRouteRequest(request) }
        }
        for record in effects.finishedCalls {
            logger.info(
                "call finished",
                metadata: [
                    "interactionID": "\(record.interactionID)", "outcome": "\(record.outcome)",
                    "calling": "\(NumberMask.mask(record.calling))",
                ])
            truthSink?(record)
        }
        for event in effects.events { for listener in eventListeners { listener(event) } }
        for request in effects.routeRequests { for listener in routeRequestListeners { listener(request) } }
        // Routes answered by the load generator or abandoned by the caller need no answer any more.
        if !routeRecipients.isEmpty { routeRecipients = routeRecipients.filter { model.pendingRoutes[$0.key] != nil } }
        // Last, so every listener has seen this batch before the default routing's own events.
        for crossRef in unrouted { defaultRoute(crossRef, why: "no application monitors the route point") }
    }
}

@available(*, unavailable)
extension SwitchCore: Sendable {}
