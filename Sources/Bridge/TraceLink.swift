import CSTA
import CSTALink
import Foundation
import Replay
import Synchronization

/// A captured CTI link played back as the live link would have reported it: the switch's events with their monitored
/// device, the SnapshotDevice results of each start-up, link-up once the last of them is in, link-down when the
/// connection is replaced or the trace ends; and the answers to the pipeline's GetAgentState and SnapshotCall
/// questions, taken from the trace (read ahead when the pipeline asks before the trace has got there).
///
/// Follows one connection at a time: a new connection that starts a link (its first MonitorStart) replaces the one
/// before, as a reconnect does; with `connection` set, only that connection is followed.
public actor TraceLink: SwitchQueries {
    public struct Options: Sendable {
        /// Follow only this connection (`nil`: each in turn).
        public var connection: Int?
        /// How far past the question (in capture time) the answer may be looked for.
        public var lookaheadSeconds: Double
        /// At most this many events are held while looking ahead.
        public var maximumLookahead: Int

        public init(connection: Int? = nil, lookaheadSeconds: Double = 60, maximumLookahead: Int = 200_000) {
            self.connection = connection
            self.lookaheadSeconds = lookaheadSeconds
            self.maximumLookahead = maximumLookahead
        }
    }

    /// Why an answer is not in the trace.
    public struct NotInTrace: Error, CustomStringConvertible {
        public var question: String
        public var description: String { "the trace holds no answer to \(question)" }
    }

    /// What the follower counted besides what the summary counts.
    public struct Counts: Sendable {
        /// Messages of connections not followed (another bridge in the same capture, or `--connection`).
        public var messagesNotFollowed = 0
        /// Answers whose request the trace does not hold (the capture started after it was sent).
        public var unmatchedAnswers = 0
        /// Questions of the pipeline the trace could not answer.
        public var unanswered = 0
        /// Link-ups and link-downs reported.
        public var linkUps = 0
        public var linkDowns = 0
        /// Gaps in the followed connection's switch→application bytes: events the live bridge saw and the capture
        /// lost.
        public var gapsInFollowed = 0
    }

    private struct Request {
        var service: String
        /// The device or call the request named.
        var subject: String
    }

    private struct Followed {
        var id: Int
        var up = false
        var pending: [Int64: Request] = [:]
        var crossRefs: [String: String] = [:]
        var monitored: Set<String> = []
        var snapshotsAnswered: Set<String> = []
        var startUpPending = 0
        /// Set once, after link-up, the application asked something other than agent states: the live pipeline asks
        /// every agent state first, so a GetAgentState the trace has not answered by then was never asked.
        var agentStatesAsked = false
    }

    /// Services an application sends while its link comes up (and heartbeats): one of them does not mean the link is up.
    private static let startUpServices: Set<String> = [
        "MonitorStart", "SnapshotDevice", "SystemStatus", "SystemRegister", "StartApplicationSession",
        "ResetApplicationSessionTimer", "GetDeviceId", "GetCSTAFeatures", "GetSwitchingFunctionDevices",
        "aarq", "rlrq", "abrt",
    ]

    private let reader: ReplayReader
    private let options: Options
    private var followed: Followed?
    private var attempt = 0
    private var lookahead: [(LinkEvent, Date)] = []
    private var lookaheadHead = 0
    private var answers: [String: [Result<CSTARecord, NotInTrace>]] = [:]
    private var ended = false
    public private(set) var summary = ReplaySummary()
    public private(set) var counts = Counts()
    /// The capture time of the latest item read; the pipeline's clock (read from outside the actor, hence a mutex).
    private let now = TraceClock()

    public init(path: String, format: ReplayFormat, port: UInt16?, options: Options = .init()) throws(ReplayError) {
        reader = try ReplaySource.open(path: path, format: format, port: port)
        self.options = options
    }

    /// The capture time of the latest item read (the wall clock for text inputs, which carry none).
    public nonisolated var clock: @Sendable () -> Date {
        { [now] in now.time }
    }

    public var counters: ReplayCounters { reader.counters }
    /// The devices whose monitors the followed connection started.
    public var monitoredDevices: Set<String> { followed?.monitored ?? [] }
    public var format: ReplayFormat { reader.format }

    /// The next link event and its capture time; `nil` at the end of the trace (after a final link-down).
    public func next() -> (LinkEvent, Date)? {
        while lookaheadHead == lookahead.count {
            lookahead.removeAll(keepingCapacity: true)
            lookaheadHead = 0
            guard readOne() else { return nil }
        }
        defer { lookaheadHead += 1 }
        return lookahead[lookaheadHead]
    }

    public func agentStateRecord(device: String) async throws -> CSTARecord {
        try answer("GetAgentState", device)
    }

    public func snapshotCallRecord(callID: String) async throws -> CSTARecord {
        try answer("SnapshotCall", callID)
    }

    // MARK: Reading

    private func answer(_ service: String, _ subject: String) throws(NotInTrace) -> CSTARecord {
        let key = service + "|" + subject
        let askedAt = now.time
        let limit = askedAt.addingTimeInterval(options.lookaheadSeconds)
        let connection = followed?.id
        while answers[key]?.isEmpty ?? true {
            guard lookahead.count - lookaheadHead < options.maximumLookahead, followed?.id == connection,
                !(service == "GetAgentState" && followed?.agentStatesAsked == true),
                now.time <= limit, readOne()
            else {
                counts.unanswered += 1
                throw NotInTrace(question: "\(service) \(subject)")
            }
        }
        return try answers[key]!.removeFirst().get()
    }

    /// Reads one item of the trace and files what it means; `false` at the end (after the final link-down).
    private func readOne() -> Bool {
        guard !ended else { return false }
        guard let item = reader.next() else {
            ended = true
            if let f = followed, f.up { emitDown("end of trace") }
            return !lookahead.isEmpty
        }
        switch item {
        case .message(let message):
            if let seconds = message.epochSeconds {
                now.time = Date(timeIntervalSince1970: seconds)
            } else {
                now.time = Date()
            }
            let decoded = try? message.decode().get()
            let record = decoded?.record()
            summary.add(item, record: record)
            if let decoded, let record { file(message, decoded, record) }
        case .gap(let gap):
            summary.add(item, record: nil)
            if gap.connection.id == followed?.id, gap.direction != .applicationToSwitch { counts.gapsInFollowed += 1 }
        case .error:
            summary.add(item, record: nil)
        }
        return true
    }

    private func file(_ message: ReplayMessage, _ decoded: CSTAMessage, _ record: CSTARecord) {
        let id = message.connection.id
        if let only = options.connection, only != id {
            counts.messagesNotFollowed += 1
            return
        }
        let fromSwitch = message.direction != .applicationToSwitch
        let service = record.string("service") ?? record.string("pdu") ?? ""
        if followed?.id != id {
            // A connection other than the followed one: it replaces it when it starts a link of its own.
            let startsLink = !fromSwitch && ["MonitorStart", "aarq", "StartApplicationSession", "SystemRegister"].contains(service)
            guard followed == nil || startsLink else {
                counts.messagesNotFollowed += 1
                return
            }
            if let f = followed, f.up { emitDown("connection closed (a new connection follows)") }
            attempt += 1
            followed = Followed(id: id)
        }
        let invokeId = record.int("invokeId")
        let pdu = record.string("pdu") ?? ""
        let time = now.time
        if !fromSwitch {
            guard pdu == "invoke" || pdu == "aarq" else { return }
            if followed?.up == false, !Self.startUpServices.contains(service) {
                // The application asked something else: the live link was up by then.
                emitUp(at: time)
            }
            if followed?.up == true, !["GetAgentState", "SystemStatus", "ResetApplicationSessionTimer"].contains(service) {
                followed?.agentStatesAsked = true
            }
            guard let invokeId else { return }
            let subject: String =
                switch service {
                case "MonitorStart": record.string("monitorObject") ?? ""
                case "SnapshotCall": record.string("callID") ?? ""
                default: record.string("device") ?? ""
                }
            if followed!.pending.count >= 65_536 { followed!.pending.removeAll() }  // answers the switch never sent
            followed!.pending[invokeId] = Request(service: service, subject: subject)
            if service == "MonitorStart" || service == "SnapshotDevice" { followed!.startUpPending += 1 }
            return
        }
        switch pdu {
        case "returnResult", "returnError", "reject":
            guard let invokeId, let request = followed!.pending.removeValue(forKey: invokeId) else {
                counts.unmatchedAnswers += 1
                return
            }
            answered(request, ok: pdu == "returnResult", decoded, record, at: time)
        case "invoke":
            let crossRef = record.string("monitorCrossRefID")
            let device = crossRef.flatMap { followed!.crossRefs[$0] }
            emit(.message(CSTAEventMessage(message: decoded, record: record, device: device)), at: time)
        default:
            break
        }
    }

    private func answered(_ request: Request, ok: Bool, _ decoded: CSTAMessage, _ record: CSTARecord, at time: Date) {
        switch request.service {
        case "MonitorStart":
            followed!.startUpPending -= 1
            if ok, let crossRef = record.string("monitorCrossRefID") {
                followed!.crossRefs[crossRef] = request.subject
                followed!.monitored.insert(request.subject)
            }
        case "SnapshotDevice":
            followed!.startUpPending -= 1
            followed!.snapshotsAnswered.insert(request.subject)
            if ok, followed!.up == false {
                emit(.snapshot(device: request.subject, result: CSTAEventMessage(message: decoded, record: record, device: request.subject)), at: time)
            }
            // The live link reports link-up once every monitored device's snapshot is in.
            if followed!.up == false, followed!.startUpPending <= 0, !followed!.monitored.isEmpty,
                followed!.monitored.isSubset(of: followed!.snapshotsAnswered)
            {
                emitUp(at: time)
            }
        case "GetAgentState", "SnapshotCall":
            let key = request.service + "|" + request.subject
            answers[key, default: []].append(
                ok ? .success(record) : .failure(NotInTrace(question: "\(request.service) \(request.subject) (answered with an error)")))
        default:
            break
        }
    }

    private func emitUp(at time: Date) {
        followed?.up = true
        counts.linkUps += 1
        emit(.state(LinkStateChange(state: .up, reason: "associated", attempt: attempt, monitors: followed?.monitored.count)), at: time)
    }

    private func emitDown(_ reason: String) {
        followed?.up = false
        counts.linkDowns += 1
        emit(.state(LinkStateChange(state: .down, reason: reason, attempt: attempt)), at: now.time)
    }

    private func emit(_ event: LinkEvent, at time: Date) {
        lookahead.append((event, time))
    }
}

/// A time read by the pipeline's clock closure and set by the trace follower.
final class TraceClock: Sendable {
    private let value = Mutex(Date())

    var time: Date {
        get { value.withLock { $0 } }
        set { value.withLock { $0 = newValue } }
    }
}
