import CSTALink
import Logging
import Metrics
import NIOCore
import NIOPosix

/// The consumer side of ``LinkCaptureRecorder``: tapped events → packets → files, with rotation. Owned by one task
/// (not `Sendable`); only the blocking file calls leave it, to the recorder's own thread.
final class RecordingWriter {
    private let options: LinkCaptureRecorder.Options
    private let files: RecordingFiles
    private let pool: NIOThreadPool
    private let logger: Logger
    private let bytesCounter = Counter(label: "ctibridge_record_bytes_total")

    private var file: RecordingFile?
    private var index = 0
    private var fileBytes: Int64 = 0
    /// Whether the current file holds link bytes (not just its header and handshakes): only then may it rotate.
    private var fileHasData = false
    private var writer: PcapngWriter
    private var connections: [LinkTapConnection: RecordedConnection] = [:]
    private var summary: LinkCaptureRecorder.Summary
    private var lastDropWarning: ContinuousClock.Instant?
    private var unsupportedReported = false

    init(options: LinkCaptureRecorder.Options, files: RecordingFiles, first: RecordingFile, pool: NIOThreadPool, logger: Logger) {
        self.options = options
        self.files = files
        self.pool = pool
        self.logger = logger
        file = first
        writer = Self.newSection()
        summary = .init(files: [first.name], bytes: 0, droppedBytes: 0)
    }

    private static func newSection() -> PcapngWriter {
        var w = PcapngWriter()
        w.addInterface(linkType: RecordedConnection.ethernetLinkType)
        return w
    }

    func run(_ events: AsyncStream<LinkCaptureRecorder.Event>) async -> LinkCaptureRecorder.Summary {
        await flush() // the section header, so even an idle recording is a valid file
        for await event in events {
            guard file != nil else { continue } // stopped by an error: the link goes on unrecorded
            await handle(event)
        }
        if file != nil {
            let now = LinkCaptureRecorder.now()
            for key in Array(connections.keys) { connections[key]?.close(at: now, into: &writer) }
            connections.removeAll()
            await flush()
            await closeFile()
        }
        try? await pool.shutdownGracefully()
        logger.info("recording finished", metadata: [
            "files": "\(summary.files.count)", "bytes": "\(summary.bytes)", "droppedBytes": "\(summary.droppedBytes)",
        ])
        return summary
    }

    private func handle(_ event: LinkCaptureRecorder.Event) async {
        switch event {
        case .opened(let c, let time):
            await rotateIfDue(time)
            guard file != nil else { return }
            introduce(c, at: time)
        case .bytes(let c, let direction, let offset, let bytes, let time):
            await rotateIfDue(time)
            guard file != nil else { return }
            // The open was dropped (queue full): introduce the connection now; the bytes before show as a gap.
            if connections[c] == nil { introduce(c, at: time) }
            let side: RecordedConnection.Side = direction == .toSwitch ? .application : .switchSide
            guard let missing = connections[c]?.data(bytes, from: side, streamOffset: offset, at: time, into: &writer)
            else { return }
            fileHasData = true
            if missing > 0 { noteDropped(missing) }
        case .closed(let c, let sent, let received, let time):
            // Chunks dropped at the very end show as the bytes between the last one written and the FIN.
            if let missing = connections[c]?.close(
                applicationLength: sent, switchLength: received, at: time, into: &writer), missing > 0
            {
                noteDropped(missing)
            }
            connections[c] = nil
        }
        await flush()
    }

    private func introduce(_ c: LinkTapConnection, at time: ReplayTimestamp) {
        guard var recorded = RecordedConnection(c, applicationISN: .random(in: .min ... .max), switchISN: .random(in: .min ... .max))
        else {
            if !unsupportedReported {
                unsupportedReported = true
                logger.warning("a link connection not over IPv4 or IPv6 is not recorded", metadata: ["connection": "\(c)"])
            }
            return
        }
        recorded.handshake(at: time, into: &writer)
        connections[c] = recorded
    }

    /// Starts the next file when this one has reached the size: a new section and interface, and a handshake for each
    /// connection still open that resumes its streams where they are.
    private func rotateIfDue(_ time: ReplayTimestamp) async {
        guard let limit = options.maximumFileBytes, fileBytes >= limit, fileHasData else { return }
        await closeFile()
        index += 1
        let name = files.name(index)
        do {
            file = try await blocking { try RecordingFile(creating: name) }
        } catch {
            stop(error)
            return
        }
        summary.files.append(name)
        fileBytes = 0
        fileHasData = false
        writer = Self.newSection()
        for key in Array(connections.keys) { connections[key]?.handshake(at: time, into: &writer) }
        logger.debug("recording continues in a new file", metadata: ["path": "\(name)"])
        if let keep = options.keep, index - keep >= 0 {
            let files = self.files, oldest = index - keep
            do {
                try await blocking { try files.remove(oldest) }
            } catch {
                // An old file that stays is no reason to stop recording.
                logger.warning("an old recording file could not be deleted", metadata: ["error": "\(error)"])
            }
        }
    }

    /// Writes what the packet writer holds.
    private func flush() async {
        guard let file else { return }
        let bytes = writer.take()
        guard !bytes.isEmpty else { return }
        do {
            try await blocking { try file.write(bytes) }
        } catch {
            stop(error)
            return
        }
        fileBytes += Int64(bytes.count)
        summary.bytes += Int64(bytes.count)
        bytesCounter.increment(by: Int64(bytes.count))
    }

    private func closeFile() async {
        guard let file else { return }
        self.file = nil
        do {
            try await blocking { try file.close() }
        } catch {
            stop(error)
        }
    }

    /// Ends the recording after a file error; the link is not affected.
    private func stop(_ error: RecordingFileError) {
        logger.error("recording stopped; the link goes on", metadata: ["error": "\(error)"])
        summary.error = summary.error ?? error.description
        file = nil
        connections.removeAll()
    }

    private func noteDropped(_ bytes: Int64) {
        summary.droppedBytes += bytes
        let now = ContinuousClock.now
        if let last = lastDropWarning, now - last < .seconds(10) { return }
        lastDropWarning = now
        logger.warning("the recording fell behind the link: traffic dropped, the file shows gaps", metadata: [
            "droppedBytes": "\(summary.droppedBytes)",
        ])
    }

    /// Runs a blocking file call on the recorder's thread.
    private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws(RecordingFileError) -> T {
        do {
            return try await pool.runIfActive { try body() }
        } catch let error as RecordingFileError {
            throw error
        } catch {
            throw RecordingFileError(files.path, message: "\(files.path): the recorder thread failed: \(error)")
        }
    }
}
