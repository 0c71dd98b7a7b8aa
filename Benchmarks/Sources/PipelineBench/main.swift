// decode → call model → durable journal: how many CSTA events per second the bridge's pipeline takes.
//
// The stream is what a switch sends: the simulator's switch model runs inbound calls (queue, distribution, ringing,
// answer, hold and retrieve, hang-up) for `--agents` monitored agents, each event once per monitored party, encoded as
// BER (or XML) the way the simulator puts it on the wire. The timed loop then does what `BridgePipeline` does per
// event: decode the frame, render the key set, feed the call model, publish the normalized events to the bus, which
// journals them in batches into a real SQLite file (WAL; sync as given). The clock stops when the last batch is
// committed.
//
//   swift run -c release PipelineBench [--calls 20000] [--agents 200] [--encoding ber|xml] [--sync normal|full|off]
import CSTA
import CallModel
import EventBus
import Foundation
import Logging
import NIOCore
import Simulator
import Store

struct Options {
    var calls = 20_000
    var agents = 200
    var encoding = CSTAEncoding.ber
    var sync = JournalSync.normal
    var runs = 3

    init(_ arguments: [String]) {
        var i = 1
        func value() -> String {
            i += 1
            guard i < arguments.count else { fatalError("\(arguments[i - 1]) needs a value") }
            return arguments[i]
        }
        while i < arguments.count {
            switch arguments[i] {
            case "--calls": calls = Int(value()) ?? calls
            case "--agents": agents = Int(value()) ?? agents
            case "--encoding": encoding = CSTAEncoding(rawValue: value()) ?? encoding
            case "--sync": sync = JournalSync(rawValue: value()) ?? sync
            case "--runs": runs = Int(value()) ?? runs
            default:
                FileHandle.standardError.write(Data("usage: PipelineBench [--calls N] [--agents N] [--encoding ber|xml] [--sync normal|full|off] [--runs N]\n".utf8))
                exit(2)
            }
            i += 1
        }
    }
}

/// One framed-less message as the link hands it on: its payload and the monitored device its cross-reference maps to.
struct WireEvent {
    var payload: ByteBuffer
    var monitoredDevice: String
}

/// Runs the switch model and encodes every event once per monitored observer.
func makeStream(_ o: Options) throws -> (events: [WireEvent], monitored: Set<String>) {
    let numbering = SwitchNumbering(agentCount: o.agents)
    var now = Date(timeIntervalSince1970: 1_800_000_000)
    var model = SwitchModel(numbering: numbering, agentsReady: true, now: now)
    let monitored = Set(numbering.agentExtensions + [numbering.acdGroup])
    var crossRefs: [String: String] = [:]
    for (index, device) in monitored.sorted().enumerated() { crossRefs[device] = String(format: "%08x", index + 1) }
    var out: [WireEvent] = []
    out.reserveCapacity(o.calls * 16)
    func flush() throws {
        for event in model.takeEffects().events {
            for observer in event.observers.keys.sorted() where monitored.contains(observer) {
                let record = event.record(monitorCrossRefID: crossRefs[observer]!, observer: observer, invokeId: 9999)
                let bytes = o.encoding == .ber ? try BERCodec.encode(record) : try XMLCodec.encode(record)
                out.append(WireEvent(payload: ByteBuffer(bytes: bytes), monitoredDevice: observer))
            }
        }
    }
    var placed = 0
    var serial = 0
    while placed < o.calls {
        let wave = min(o.agents, o.calls - placed)
        var calls: [String] = []
        for _ in 0..<wave {
            now += 0.01
            serial += 1
            let caller = "+4989" + String(1_000_000 + serial)
            calls.append(try model.placeInboundCall(from: caller, to: numbering.hotline, now: now))
            try flush()
        }
        placed += wave
        for (index, call) in calls.enumerated() {
            now += 0.01
            guard let agent = model.calls[call]?.connections.first(where: { $0.state == .alerting })?.device else { continue }
            try model.answerCall(callID: call, device: agent, now: now)
            if index % 4 == 0 {
                try model.holdCall(callID: call, device: agent, now: now)
                try model.retrieveCall(callID: call, device: agent, now: now)
            }
            try flush()
        }
        for call in calls {
            now += 0.01
            guard let caller = model.calls[call]?.calling else { continue }
            try model.clearConnection(callID: call, device: caller, now: now)
            try flush()
        }
    }
    return (out, monitored)
}

func residentMegabytes() -> Double {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
        return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
    }
    return 0
}

let options = Options(CommandLine.arguments)
let (stream, monitored) = try makeStream(options)
let bytes = stream.reduce(0) { $0 + $1.payload.readableBytes }
print("stream: \(stream.count) CSTA events (\(options.encoding.rawValue), \(bytes / 1024) KiB) for \(options.calls) calls, \(monitored.count) monitored devices")

var rates: [Double] = []
var decodeOnly: [Double] = []
for run in 1...options.runs {
    // Decode and key set only: the codec's share.
    var start = ContinuousClock.now
    var checksum = 0
    for event in stream {
        let message = try CSTAMessage.decode(event.payload, encoding: options.encoding)
        checksum &+= message.record().values.count
    }
    let decodeSeconds = (ContinuousClock.now - start) / .seconds(1)

    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pipeline-bench-\(UUID().uuidString)")
    let store = try CTIStore(
        path: directory.appendingPathComponent("bench.sqlite").path, configuration: .init(sync: options.sync),
        logger: Logger(label: "bench"))
    let bus = try await EventBus(store: store, logger: Logger(label: "bench"))
    var engine = CallModelEngine(
        configuration: .init(monitoredDevices: monitored, queueDevices: ["8001"]))
    var pending: [CallEvent] = []
    var produced = 0
    start = ContinuousClock.now
    for (index, event) in stream.enumerated() {
        let message = try CSTAMessage.decode(event.payload, encoding: options.encoding)
        guard let input = CSTAEventInput(record: message.record(), monitoredDevice: event.monitoredDevice) else { continue }
        pending += engine.apply(input, at: Date())
        // The link hands events on per socket read; publish per 32 like a busy read.
        if index % 32 == 31 {
            produced += pending.count
            let delta = engine.takeCheckpoint(at: Date(), interval: 1)
            try await bus.publish(pending, openCalls: OpenCallsDelta(upserts: delta.upserts, deletes: delta.deletes))
            pending.removeAll(keepingCapacity: true)
        }
    }
    produced += pending.count
    try await bus.publish(pending)
    try await bus.flush()
    let seconds = (ContinuousClock.now - start) / .seconds(1)
    let journalled = try store.lastJournalSeq()
    try await bus.shutdown()
    try store.close()
    try? FileManager.default.removeItem(at: directory)
    let rate = Double(stream.count) / seconds
    rates.append(rate)
    decodeOnly.append(Double(stream.count) / decodeSeconds)
    print(String(format: "run %d: %.0f CSTA events/s end to end (%.2f s; %d call events journalled, %d records), decode+key set alone %.0f events/s [%d]",
                 run, rate, seconds, journalled, produced, Double(stream.count) / decodeSeconds, checksum % 7))
}
let median = rates.sorted()[rates.count / 2]
print(String(format: "median: %.0f CSTA events/s through decode → call model → journal (sync %@); decode alone %.0f/s; peak RSS %.1f MB",
             median, options.sync.rawValue, decodeOnly.sorted()[decodeOnly.count / 2], residentMegabytes()))
