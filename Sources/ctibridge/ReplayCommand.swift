import ArgumentParser
import Bridge
import CSTA
import CallModel
import Foundation
import Logging
import Replay
import Store

extension ReplayFormat: ExpressibleByArgument {}

/// `ctibridge replay`: a captured CTI link (pcap, pcapng, hex dump, XML log, framed stream) decoded, counted, pushed
/// through the pipeline into a scratch database, played as the switch towards a live bridge, or compared with another
/// run.
struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a captured CSTA link: decode it, count it, run it through the pipeline, or play it to a bridge.",
        discussion: """
            Examples:
              ctibridge replay site.pcapng --port 7001 --json          one key-set JSON line per message, with \
            "timestamp", "direction" and "connection"
              ctibridge replay site.pcap --summary                     counts per service and event, calls, errors, gaps
              ctibridge replay site.pcap --into-db scratch.sqlite      the switch's side through call model, bus and \
            journal into a new database (then: ctibridge calls --db scratch.sqlite)
              ctibridge replay site.pcap --into-db new.sqlite --diff live.sqlite   … and compare with the live run
              ctibridge replay a.sqlite --diff b.sqlite                compare the call records of two databases
              ctibridge replay site.pcap --to 127.0.0.1:4711 --speed 1 play the switch's side to a bridge listening there
              ctibridge replay site.pcap --listen 127.0.0.1:4711       … or to a bridge that dials the switch (prints             {"type": "listening", "port": N} first)
            Without --json, --summary, --into-db, --to, --listen or --diff, prints JSON lines (as --json). A progress bar is \
            drawn on standard error when it is a terminal. Exit 0 when the input was read to the end, even with \
            undecodable frames or gaps; 65 when --diff finds differences; 66 when the input cannot be read.
            """
    )

    @Argument(help: "The capture or trace log ('-' for standard input); with --diff alone, a database.")
    var file: String

    @Option(help: "Input format: auto, pcap, pcapng, hex, xml or stream.")
    var format: ReplayFormat = .auto

    @Option(help: "The switch's TCP port: its side is switch→application, other TCP ports are skipped.")
    var port: Int?

    @Option(help: "Framing of the CSTA streams: auto, u16, hipath, tpkt, ecma323 or none.")
    var framing: CSTAFraming = .auto

    @Option(help: "Message encoding: auto, ber or xml.")
    var encoding: EncodingOption = .auto

    @Flag(help: "One key-set JSON line per message, plus timestamp, direction and connection.")
    var json = false

    @Flag(help: "Counts per service and event, calls, errors and gaps (a JSON line with --json).")
    var summary = false

    @Option(help: "Pace the replay: N times the captured speed (1 = as captured), or max.")
    var speed: String = "max"

    @Option(help: "Push the switch's side through call model, bus and journal into this new database.")
    var intoDb: String?

    @Option(help: "The bridge configuration (YAML) the live run used: its dial plan, monitored devices and queues.")
    var config: String?

    @Option(help: "Follow only this connection of the capture (see --summary for the ids).")
    var connection: Int?

    @Option(help: "Play the switch's side to a bridge that listens at HOST:PORT, answering its requests from the trace.")
    var to: String?

    @Option(help: "Listen at HOST:PORT as the switch and play the trace's switch side to the bridge that dials in.")
    var listen: String?

    @Option(help: "Compare the call records with those of this database (the other run).")
    var diff: String?

    @Option(help: "With --diff: times may differ by this many seconds.")
    var diffTolerance: Double = 1

    @Flag(help: "No progress bar, even on a terminal.")
    var noProgress = false

    @Option(help: "Largest frame payload accepted, in bytes.")
    var maxFrameSize: Int = 1 << 20

    var pace: Double? {
        speed == "max" ? nil : Double(speed)
    }

    func validate() throws {
        if speed != "max" {
            guard let value = Double(speed), value > 0, value.isFinite else {
                throw ValidationError("--speed must be a positive number or max, not '\(speed)'")
            }
        }
        if let port, !(1...65535).contains(port) { throw ValidationError("--port must be 1…65535") }
        if let connection, connection < 0 { throw ValidationError("--connection must be 0 or more") }
        if diffTolerance < 0 { throw ValidationError("--diff-tolerance must not be negative") }
        guard maxFrameSize > 0 else { throw ValidationError("--max-frame-size must be positive") }
        if let to, BridgeConfiguration.hostPort(to) == nil { throw ValidationError("--to wants HOST:PORT, not '\(to)'") }
        if let listen, BridgeConfiguration.hostPort(listen) == nil {
            throw ValidationError("--listen wants HOST:PORT, not '\(listen)'")
        }
        if [to != nil, listen != nil, intoDb != nil].filter({ $0 }).count > 1 {
            throw ValidationError("--to, --listen and --into-db are different replays: pick one")
        }
        if intoDb == nil, to == nil, listen == nil, diff != nil, !Self.isDatabase(file) {
            throw ValidationError("--diff compares call records: give --into-db FILE, or a database as the input")
        }
    }

    func run() async throws {
        if let diff, intoDb == nil, to == nil, listen == nil {
            try compareDatabases(file, diff)
            return
        }
        if let to {
            try await playToBridge(to, listening: false)
            return
        }
        if let listen {
            try await playToBridge(listen, listening: true)
            return
        }
        if let intoDb {
            try await ingest(into: intoDb)
            if let diff { try compareDatabases(intoDb, diff) }
            return
        }
        try decodeOnly()
    }

    // MARK: Decoding and counting

    func openReader() throws -> ReplayReader {
        do {
            return try ReplaySource.open(
                path: file, format: format, port: port.map(UInt16.init), framing: framing,
                encoding: encoding.encoding, maximumPayloadLength: maxFrameSize)
        } catch {
            printError("ctibridge replay: \(file): \(error)")
            throw ExitCode(66)
        }
    }

    func decodeOnly() throws {
        let reader = try openReader()
        let printLines = json || !summary
        var out = OutputWriter()
        var counts = ReplaySummary()
        let progress = ProgressBar(total: Self.fileSize(file), enabled: !noProgress)
        var pacer = Pacer(speed: pace)
        var index = 0
        while let item = reader.next() {
            var record: CSTARecord? = nil
            switch item {
            case .message(let message):
                pacer.wait(until: message.epochSeconds)
                let decoded = message.decode()
                if case .success(let m) = decoded { record = m.record() }
                if printLines {
                    out.line { ReplayJSON.write(message, index: index, decoded: decoded, record: record, to: &$0) }
                }
                index += 1
            case .gap(let gap):
                if printLines { out.line { ReplayJSON.write(gap, to: &$0) } }
            case .error(let error):
                if printLines { out.line { ReplayJSON.write(error, to: &$0) } }
            }
            if summary { counts.add(item, record: record) }
            if pacer.isPaced { out.flush() }
            progress.update(bytes: reader.counters.bytes, messages: reader.counters.messages)
        }
        progress.finish()
        if summary {
            let text = json ? counts.json(counters: reader.counters, format: reader.format)
                : counts.text(counters: reader.counters, format: reader.format)
            out.line { $0.append(contentsOf: text.utf8) }
        }
        out.flush()
    }

    // MARK: Into a database

    func ingest(into path: String) async throws {
        do {
            try TraceIngest.checkScratch(path)
        } catch {
            throw ValidationError("\(error)")
        }
        var model = CallModelEngine.Configuration()
        if let config {
            do {
                model = try BridgeConfiguration.load(path: config).callModelConfiguration()
            } catch {
                throw ValidationError(error.description)
            }
        }
        let trace: TraceLink
        do {
            trace = try TraceLink(
                path: file, format: format, port: port.map(UInt16.init), options: .init(connection: connection))
        } catch {
            printError("ctibridge replay: \(file): \(error)")
            throw ExitCode(66)
        }
        var logger = Logger(label: "ctibridge.replay")
        logger.logLevel = .warning
        let progress = ProgressBar(total: Self.fileSize(file), enabled: !noProgress)
        let outcome = try await TraceIngest.run(
            trace: trace, databasePath: path, model: model, logger: logger,
            progress: { counters in progress.update(bytes: counters.bytes, messages: counters.messages) })
        progress.finish()
        var out = OutputWriter()
        let f = outcome.follower
        let line =
            "{\"type\": \"intoDb\", \"database\": \(KeySetJSON.quoted(path)), \"calls\": \(outcome.calls), "
            + "\"journalEvents\": \(outcome.journalEvents), \"messages\": \(outcome.summary.messages), "
            + "\"decodeErrors\": \(outcome.summary.decodeErrors), \"gaps\": \(outcome.summary.gaps), "
            + "\"gapsInFollowed\": \(f.gapsInFollowed), \"linkUps\": \(f.linkUps), \"linkDowns\": \(f.linkDowns), "
            + "\"messagesNotFollowed\": \(f.messagesNotFollowed), \"unmatchedAnswers\": \(f.unmatchedAnswers), "
            + "\"unanswered\": \(f.unanswered)}"
        if summary {
            let resolved = await trace.format
            let text = json ? outcome.summary.json(counters: outcome.counters, format: resolved)
                : outcome.summary.text(counters: outcome.counters, format: resolved)
            out.line { $0.append(contentsOf: text.utf8) }
        }
        out.line { $0.append(contentsOf: line.utf8) }
        out.flush()
        if f.gapsInFollowed > 0 {
            printError("ctibridge replay: the capture lost bytes of the switch's side \(f.gapsInFollowed) time(s): "
                + "calls around those gaps may differ from the live run's")
        }
    }

    // MARK: Playing to a bridge

    func playToBridge(_ address: String, listening: Bool) async throws {
        guard let (host, port) = BridgeConfiguration.hostPort(address) else { throw ValidationError("HOST:PORT expected") }
        let reader = try openReader()
        var logger = Logger(label: "ctibridge.replay")
        logger.logLevel = .warning
        let player = TraceSwitchPlayer(options: .init(speed: pace, connection: connection), logger: logger)
        let report: TraceSwitchPlayer.Report
        do {
            if listening {
                report = try await player.play(reader, listeningOn: host, port: port) { bound in
                    var out = OutputWriter()
                    out.line { $0.append(contentsOf: "{\"type\": \"listening\", \"host\": \(KeySetJSON.quoted(host)), \"port\": \(bound)}".utf8) }
                    out.flush()
                }
            } else {
                report = try await player.play(reader, toHost: host, port: port)
            }
        } catch {
            printError("ctibridge replay: playing \(listening ? "at" : "to") \(address) failed: \(error)")
            throw ExitCode(1)
        }
        var out = OutputWriter()
        out.line { $0.append(contentsOf: report.json.utf8) }
        out.flush()
    }

    // MARK: Comparing two runs

    func compareDatabases(_ mine: String, _ other: String) throws {
        let actual = try Self.callRecords(mine)
        let expected = try Self.callRecords(other)
        let comparison = CallRecordComparison(
            expected: expected, actual: actual, strict: true, timeTolerance: diffTolerance)
        var out = OutputWriter()
        let text = json ? "{\"type\": \"diff\", \"comparison\": \(comparison.json())}" : "diff \(mine) against \(other): \(comparison)"
        out.line { $0.append(contentsOf: text.utf8) }
        out.flush()
        let identical = comparison.matched == comparison.expectedCount && comparison.extra.isEmpty
            && comparison.duplicateCallIDs.isEmpty
        if !identical { throw ExitCode(65) }
    }

    static func callRecords(_ path: String) throws -> [CallRecord] {
        guard isDatabase(path) else { throw ValidationError("\(path) is not a ctibridge database") }
        do {
            let store = try CTIStore(path: path, logger: Logger(label: "ctibridge.replay"))
            return try store.calls(since: nil, until: nil, limit: nil)
        } catch {
            throw ValidationError("cannot read call records from \(path): \(error)")
        }
    }

    /// SQLite's file header.
    static func isDatabase(_ path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        let head = (try? handle.read(upToCount: 16)) ?? Data()
        return head == Data("SQLite format 3\0".utf8)
    }

    static func fileSize(_ path: String) -> Int64 {
        guard path != "-", let size = try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber else { return 0 }
        return size.int64Value
    }
}
