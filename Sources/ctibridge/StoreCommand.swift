import ArgumentParser
import CallModel
import Foundation
import Logging
import Store

/// `ctibridge store check`: is the database whole, the journal gap-free, every call recorded once?
struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Inspect the bridge's database.",
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the database: SQLite integrity, journal sequence gaps, call ids in two records.",
            discussion: """
                Prints one JSON object ({"integrity": …, "journalSeq": N, "journalEvents": N, "journalGaps": […],
                "calls": N, "duplicateCallIDs": […], "duplicateJournalCallEnds": N, "openCalls": N, "ok": true|false}) and
                exits 1 when something is wrong. Safe to run while the daemon runs (it only reads).
                """
        )

        @Option(name: .long, help: "The database (default: ./ctibridge-demo/ctibridge.sqlite).")
        var db: String = DemoCommand.defaultDirectory + "/ctibridge.sqlite"

        func run() throws {
            guard FileManager.default.fileExists(atPath: db) else { throw ValidationError("no database at \(db)") }
            let store = try CTIStore(path: db, logger: Logger(label: "ctibridge.store"))
            let integrity = try store.integrityCheck()
            let gaps = try store.journalGaps()
            let records = try store.calls(since: nil, until: nil, limit: nil)
            var seen: [String: Int] = [:]
            for record in records { for id in Set(record.callIDs) { seen[id, default: 0] += 1 } }
            let duplicates = seen.filter { $0.value > 1 }.map(\.key).sorted()
            // Every interaction ends once in the journal.
            var ends: [String: Int] = [:]
            var after: Int64 = 0
            while true {
                let page = try store.readJournal(after: after, limit: 10_000)
                guard let last = page.last else { break }
                for item in page where item.event.kind == .callEnded {
                    if let id = item.event.interactionID { ends[id, default: 0] += 1 }
                }
                after = last.seq
            }
            let doubleEnds = ends.values.filter { $0 > 1 }.count
            let ok = integrity == ["ok"] && gaps.isEmpty && duplicates.isEmpty && doubleEnds == 0
            let fields = [
                "\"integrity\":\(Self.list(integrity))", "\"journalSeq\":\(try store.lastJournalSeq())",
                "\"journalEvents\":\(try store.journalCount())",
                "\"journalGaps\":\(Self.list(gaps.map { "\($0.lowerBound)-\($0.upperBound)" }))",
                "\"calls\":\(records.count)", "\"duplicateCallIDs\":\(Self.list(duplicates))",
                "\"duplicateJournalCallEnds\":\(doubleEnds)", "\"openCalls\":\(try store.openCalls().count)",
                "\"ok\":\(ok)",
            ]
            FileHandle.standardOutput.write(Data(("{" + fields.joined(separator: ",") + "}\n").utf8))
            if !ok { throw ExitCode(1) }
        }

        static func list(_ items: [String]) -> String {
            "[" + items.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }.joined(separator: ",") + "]"
        }
    }
}
