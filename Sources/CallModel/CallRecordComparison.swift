import Foundation

/// Compares call records with a reference (the simulator's `--truth` file, or another run): the same interaction is
/// the one with the same set of call ids; then calling, called, the agent who took the call, and the outcome must
/// agree. Used by the tests and by `ctibridge calls --compare`.
public struct CallRecordComparison: Sendable, CustomStringConvertible {
    /// Reference records found with every compared field equal.
    public private(set) var matched = 0
    /// Reference records found with some field different, and what differs.
    public private(set) var mismatches: [String] = []
    /// Reference records whose set of call ids no record has.
    public private(set) var missing: [CallRecord] = []
    /// Records whose set of call ids the reference does not have.
    public private(set) var extra: [CallRecord] = []
    /// Call ids that appear in more than one record.
    public private(set) var duplicateCallIDs: [String] = []
    public let expectedCount: Int

    /// - Parameters:
    ///   - strict: also compare direction and queue.
    ///   - timeTolerance: also compare start, answer and end times, wait, talk and hold, and the parties' segments
    ///     (device, agent, state, in order), times within this many seconds (two runs of the same traffic: a replay
    ///     is stamped with capture times, the live run with the moment it handled each event).
    public init(expected: [CallRecord], actual: [CallRecord], strict: Bool = false, timeTolerance: Double? = nil) {
        expectedCount = expected.count
        var byIDs: [Set<String>: [CallRecord]] = [:]
        for record in actual { byIDs[Set(record.callIDs), default: []].append(record) }
        var seen: [String: Int] = [:]
        for record in actual {
            for id in Set(record.callIDs) { seen[id, default: 0] += 1 }
        }
        duplicateCallIDs = seen.filter { $0.value > 1 }.map(\.key).sorted()
        for reference in expected {
            let key = Set(reference.callIDs)
            guard var candidates = byIDs[key], !candidates.isEmpty else {
                missing.append(reference)
                continue
            }
            let record = candidates.removeFirst()
            byIDs[key] = candidates
            var problems: [String] = []
            if record.calling != reference.calling { problems.append("calling \(record.calling) ≠ \(reference.calling)") }
            if record.called != reference.called { problems.append("called \(record.called) ≠ \(reference.called)") }
            if record.outcome != reference.outcome { problems.append("outcome \(record.outcome) ≠ \(reference.outcome)") }
            if strict, record.direction != reference.direction {
                problems.append("direction \(record.direction) ≠ \(reference.direction)")
            }
            if strict, record.queue != reference.queue {
                problems.append("queue \(record.queue ?? "none") ≠ \(reference.queue ?? "none")")
            }
            if let tolerance = timeTolerance { problems += Self.timeProblems(record, reference, tolerance) }
            let agent = Self.takingAgent(record)
            let expectedAgent = Self.takingAgent(reference)
            if agent != expectedAgent { problems.append("agent \(agent ?? "none") ≠ \(expectedAgent ?? "none")") }
            if problems.isEmpty {
                matched += 1
            } else {
                mismatches.append("\(reference.callIDs.joined(separator: ",")): " + problems.joined(separator: "; "))
            }
        }
        extra = byIDs.values.flatMap { $0 }.sorted { $0.startedAt < $1.startedAt }
    }

    static func timeProblems(_ record: CallRecord, _ reference: CallRecord, _ tolerance: Double) -> [String] {
        var problems: [String] = []
        func check(_ name: String, _ a: Date?, _ b: Date?) {
            switch (a, b) {
            case (nil, nil): break
            case (let a?, let b?) where abs(a.timeIntervalSince(b)) <= tolerance: break
            default: problems.append("\(name) \(a.map { "\($0)" } ?? "none") ≠ \(b.map { "\($0)" } ?? "none")")
            }
        }
        func check(_ name: String, _ a: Double, _ b: Double) {
            if abs(a - b) > tolerance { problems.append("\(name) \(a) ≠ \(b)") }
        }
        check("startedAt", record.startedAt, reference.startedAt)
        check("answeredAt", record.answeredAt, reference.answeredAt)
        check("endedAt", record.endedAt, reference.endedAt)
        check("waitSeconds", record.waitSeconds, reference.waitSeconds)
        check("talkSeconds", record.talkSeconds, reference.talkSeconds)
        check("holdSeconds", record.holdSeconds, reference.holdSeconds)
        let parties = record.segments.map { "\($0.device)/\($0.agentID ?? "-")/\($0.state)" }
        let expectedParties = reference.segments.map { "\($0.device)/\($0.agentID ?? "-")/\($0.state)" }
        if parties != expectedParties {
            problems.append("segments \(parties.joined(separator: ",")) ≠ \(expectedParties.joined(separator: ","))")
        }
        return problems
    }

    /// The agent who took the call: the first agent talking in it.
    public static func takingAgent(_ record: CallRecord) -> String? {
        record.segments.first { $0.state == "talking" && $0.agentID != nil }?.agentID ?? record.answeredBy
    }

    /// Matched records as a share of the reference (1 when the reference is empty).
    public var matchedShare: Double { expectedCount == 0 ? 1 : Double(matched) / Double(expectedCount) }

    public var description: String {
        var text = "\(matched) of \(expectedCount) matched (\(String(format: "%.2f", matchedShare * 100)) %), "
        text += "\(mismatches.count) differ, \(missing.count) missing, \(extra.count) extra, "
        text += "\(duplicateCallIDs.count) call ids in two records"
        for line in mismatches.prefix(5) { text += "\n  differs: " + line }
        for record in missing.prefix(3) { text += "\n  missing: \(record.callIDs.joined(separator: ",")) \(record.outcome)" }
        for record in extra.prefix(3) { text += "\n  extra: \(record.callIDs.joined(separator: ",")) \(record.outcome)" }
        return text
    }

    /// The same as JSON (one object), for scripts.
    public func json() -> String {
        let fields: [String] = [
            "\"expected\":\(expectedCount)", "\"matched\":\(matched)",
            "\"matchedShare\":\(String(format: "%.5f", matchedShare))", "\"differ\":\(mismatches.count)",
            "\"missing\":\(missing.count)", "\"extra\":\(extra.count)",
            "\"duplicateCallIDs\":\(duplicateCallIDs.count)",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }
}
