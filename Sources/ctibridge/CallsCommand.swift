import ArgumentParser
import Bridge
import CallModel
import Foundation
import Logging
import Store

/// `ctibridge calls`: call records from the store (contract §4, records in the shape of §5).
struct CallsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calls",
        abstract: "List call records from the store.",
        discussion: """
            --since and --until take an ISO-8601 date or time (2026-11-23, 2026-11-23T08:00:00Z) or an age
            (90s, 15m, 2h, 7d). Without --json a table is printed; with --json one record per line.
            """
    )

    @Option(name: .long, help: "The database (default: the configuration's, else ./ctibridge-demo/ctibridge.sqlite).")
    var db: String?

    @Option(name: .long, help: "Take the database path from this configuration file.")
    var config: String?

    @Option(name: .long, help: "Only calls that started at or after this time (ISO-8601, or an age like 2h).")
    var since: String?

    @Option(name: .long, help: "Only calls that started before this time.")
    var until: String?

    @Option(name: .long, help: "At most this many calls (the most recent ones).")
    var limit: Int?

    @Flag(name: .long, help: "One JSON record per line.")
    var json = false

    @Option(name: .long, help: "Compare with reference records (JSON lines, e.g. `simulate --truth`) and print the result.")
    var compare: String?

    func validate() throws {
        if let since { _ = try Self.time(since, "--since") }
        if let until { _ = try Self.time(until, "--until") }
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        let path = try databasePath()
        guard FileManager.default.fileExists(atPath: path) else {
            throw ValidationError("no database at \(path) (run `ctibridge demo` or `ctibridge serve`, or pass --db)")
        }
        let store = try CTIStore(path: path, logger: .init(label: "ctibridge.calls"))
        let records = try store.calls(
            since: try since.map { try Self.time($0, "--since") }, until: try until.map { try Self.time($0, "--until") },
            limit: limit)
        var out = ""
        if let compare {
            let expected = try Self.readRecords(compare)
            let comparison = CallRecordComparison(expected: expected, actual: records)
            out = json ? comparison.json() + "\n" : comparison.description + "\n"
        } else if json {
            for record in records { out += try record.jsonLine() + "\n" }
        } else {
            out = Self.table(records)
        }
        FileHandle.standardOutput.write(Data(out.utf8))
    }

    /// Call records, one JSON object per line (blank lines skipped); the error names the line.
    static func readRecords(_ path: String) throws -> [CallRecord] {
        guard let data = FileManager.default.contents(atPath: path) else { throw ValidationError("cannot read \(path)") }
        let decoder = JSONDecoder()
        var records: [CallRecord] = []
        for (index, line) in String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do {
                records.append(try decoder.decode(CallRecord.self, from: Data(line.utf8)))
            } catch {
                throw ValidationError("\(path):\(index + 1): not a call record (\(error))")
            }
        }
        return records
    }

    func databasePath() throws -> String { try Self.databasePath(db: db, config: config) }

    /// `--db`, else the database of `--config`'s configuration, else the demo's database.
    static func databasePath(db: String?, config: String?) throws -> String {
        if let db { return db }
        if let config {
            do {
                return try BridgeConfiguration.load(path: config).database.path
            } catch {
                throw ValidationError(error.description)
            }
        }
        return DemoCommand.defaultDirectory + "/ctibridge.sqlite"
    }

    static func time(_ text: String, _ option: String) throws -> Date {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let unit = text.last, let scale = units[unit], let amount = Double(text.dropLast()), amount >= 0 {
            return Date().addingTimeInterval(-amount * scale)
        }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
        if let date = try? Date.ISO8601FormatStyle().year().month().day().parse(text) { return date }
        throw ValidationError("\(option) '\(text)' is neither an ISO-8601 date/time nor an age like 90s, 15m, 2h, 7d")
    }

    static func table(_ records: [CallRecord]) -> String {
        let header = ["started", "direction", "calling", "called", "outcome", "agent", "wait", "talk", "hold", "call ids"]
        var rows = [header]
        let time = Date.ISO8601FormatStyle().year().month().day().time(includingFractionalSeconds: false)
        for r in records {
            rows.append([
                r.startedAt.formatted(time), r.direction, r.calling, r.called,
                r.outcome + (r.resynced ? "*" : ""), r.answeredBy ?? "-", String(format: "%.1f", r.waitSeconds),
                String(format: "%.1f", r.talkSeconds), String(format: "%.1f", r.holdSeconds),
                r.callIDs.joined(separator: ","),
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        var out = ""
        for row in rows {
            out += row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces) + "\n"
        }
        out += "\(records.count) call\(records.count == 1 ? "" : "s")"
        out += records.contains(where: \.resynced) ? " (* completed from snapshots after a link or bridge outage)\n" : "\n"
        return out
    }
}
