import CSTA
import Foundation
import Replay
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The lines `ctibridge replay --json` prints: a message is its key set (as `ctibridge decode` prints it, `i` its
/// index among the file's messages) plus `timestamp`, `direction`, `connection` and `frame` (its index within its
/// connection and direction); a gap and a reader error carry `"type"`.
enum ReplayJSON {
    static func write(
        _ message: ReplayMessage, index: Int, decoded: Result<CSTAMessage, CSTADecodeError>, record: CSTARecord?,
        to out: inout [UInt8]
    ) {
        var extra = CSTARecord()
        extra["frame"] = .int(Int64(message.frameIndex))
        if message.timestamp != .zero { extra["timestamp"] = .string(message.timestamp.iso8601) }
        extra["direction"] = .string(message.direction.rawValue)
        extra["connection"] = .int(Int64(message.connection.id))
        switch decoded {
        case .success:
            var full = record ?? CSTARecord()
            for (key, value) in extra.values { full[key] = value }
            KeySetJSON.write(full, index: index, to: &out)
        case .failure(let error):
            extra["error"] = .string(error.reason)
            extra["offset"] = .int(Int64(error.offset))
            KeySetJSON.write(extra, index: index, to: &out)
        }
    }

    static func write(_ gap: ReplayGap, to out: inout [UInt8]) {
        let record = CSTARecord([
            "type": .string("gap"), "connection": .int(Int64(gap.connection.id)),
            "direction": .string(gap.direction.rawValue), "expectedSeq": .int(Int64(gap.expectedSeq)),
            "resumedAt": .int(Int64(gap.resumedAt)), "bytesMissing": .int(Int64(gap.bytesMissing)),
            "fileOffset": .int(gap.fileOffset),
        ])
        KeySetJSON.write(record, to: &out)
    }

    static func write(_ error: ReplayError, to out: inout [UInt8]) {
        let record = CSTARecord([
            "type": .string("error"), "kind": .string(error.kind.rawValue), "error": .string(error.detail),
            "fileOffset": .int(error.offset),
        ])
        KeySetJSON.write(record, to: &out)
    }
}

/// Sleeps so messages come out at the captured pace, scaled (`nil`: as fast as possible).
struct Pacer {
    let speed: Double?
    private var origin: (capture: Double, wall: Double)?

    init(speed: Double?) { self.speed = speed }

    var isPaced: Bool { speed != nil }

    mutating func wait(until captureSeconds: Double?) {
        guard let speed, let captureSeconds else { return }
        let now = monotonicSeconds()
        guard let origin else {
            self.origin = (captureSeconds, now)
            return
        }
        let due = origin.wall + (captureSeconds - origin.capture) / speed
        if due > now { usleep(useconds_t(min(due - now, 3600) * 1_000_000)) }
    }
}

/// A one-line progress bar on standard error, drawn only when it is a terminal, at most five times a second.
final class ProgressBar: Sendable {
    private struct State {
        var lastDraw = 0.0
        var drawn = false
    }

    private let total: Int64
    private let enabled: Bool
    /// What is counted (`messages` for replay, `rows` for a customer import).
    private let unit: String
    private let started = monotonicSeconds()
    private let state = Mutex(State())

    init(total: Int64, enabled: Bool, unit: String = "messages") {
        self.total = total
        self.enabled = enabled && isatty(2) != 0
        self.unit = unit
    }

    func update(bytes: Int64, messages: Int) {
        guard enabled else { return }
        let now = monotonicSeconds()
        let due = state.withLock { s -> Bool in
            guard now - s.lastDraw >= 0.2 else { return false }
            s.lastDraw = now
            s.drawn = true
            return true
        }
        guard due else { return }
        draw(bytes: bytes, messages: messages, elapsed: now - started)
    }

    func finish() {
        guard enabled, state.withLock({ $0.drawn }) else { return }
        var w = OutputWriter(fd: 2)
        w.write("\r\u{1B}[K".utf8)
        w.flush()
    }

    private func draw(bytes: Int64, messages: Int, elapsed: Double) {
        let megabytes = Double(bytes) / 1_000_000
        let rate = elapsed > 0 ? megabytes / elapsed : 0
        var line = "\r"
        if total > 0 {
            let fraction = min(1, Double(bytes) / Double(total))
            let width = 30
            let filled = Int(fraction * Double(width))
            line += "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            line += String(format: "%3.0f%% ", fraction * 100)
            line += String(format: "%.1f/%.1f MB", megabytes, Double(total) / 1_000_000)
        } else {
            line += String(format: "%.1f MB", megabytes)
        }
        line += String(format: ", %d \(unit), %.0f MB/s, %.1f s", messages, rate, elapsed)
        var w = OutputWriter(fd: 2)
        w.write(line.utf8)
        w.write("\u{1B}[K".utf8)
        w.flush()
    }
}
