import CSTALink
import Logging
import Metrics
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Records the CTI link to pcapng (`ctibridge serve|tail --record FILE`): set it as the link's ``LinkTap`` and every
/// connection is written as a synthesized TCP conversation between its real endpoints — SYN, SYN-ACK, ACK at the open,
/// the CSTA bytes (above TLS: decrypted) with continuous sequence numbers, FIN at the close — which Wireshark, tshark
/// and ``ReplaySource`` read like a capture.
///
/// - Not on the event loop: the tap only stamps the time (wall clock, µs in the file), copies the frame and queues it
///   (bounded, ``Options/queueCapacity`` chunks). A task turns the queue into packets and a thread of its own does the
///   blocking `write(2)`s. When the disk cannot keep up, chunks that find the queue full are dropped and counted
///   (`ctibridge_record_dropped_total`, a warning at most every 10 s); the file shows the hole as a TCP gap.
/// - Rotation (``Options/maximumFileBytes``): once a file has reached the size, the next chunk starts a new file —
///   `FILE.1`, `FILE.2`, … (see ``RecordingFiles``) — between two whole frames. The new file has its own section and
///   interface, and every connection still open is introduced again by a handshake that resumes at its current sequence
///   numbers, so each file replays on its own: no frame cut, no gap, the switch side known. ``Options/keep`` deletes
///   the oldest files beyond that many.
/// - Errors: a first file that cannot be created fails ``start(_:logger:)``; a later write or create error is logged
///   and ends the recording, never the link (an old file that cannot be deleted is only logged).
/// - Direction on replay: the link dials the switch, so the SYN-ACK's sender is the switch and the reader needs no
///   port. When the switch dials in (listen mode) the file shows the switch's SYN, which the reader takes for the
///   application's; such files are replayed with the directions swapped (see `docs/link.md`).
public final class LinkCaptureRecorder: LinkTap {
    /// Where and how much to record.
    public struct Options: Sendable, Hashable {
        /// The first file; rotated files add `.1`, `.2`, …
        public var path: String
        /// Start a new file once this many bytes are written; `nil`: one file.
        public var maximumFileBytes: Int64?
        /// Keep at most this many files, deleting the oldest; `nil`: keep all.
        public var keep: Int?
        /// Chunks (frames) waiting for the disk before new ones are dropped.
        public var queueCapacity: Int

        public init(path: String, maximumFileBytes: Int64? = nil, keep: Int? = nil, queueCapacity: Int = 4096) {
            self.path = path
            self.maximumFileBytes = maximumFileBytes
            self.keep = keep
            self.queueCapacity = queueCapacity
        }
    }

    /// What a finished recording wrote.
    public struct Summary: Sendable, Hashable {
        /// Every file started, oldest first (those deleted by ``Options/keep`` included).
        public var files: [String]
        /// Bytes written, all files together.
        public var bytes: Int64
        /// Link bytes that never reached the file (dropped while the disk was behind).
        public var droppedBytes: Int64
        /// Why the recording stopped early, if it did.
        public var error: String?
    }

    enum Event: Sendable {
        case opened(LinkTapConnection, ReplayTimestamp)
        case bytes(LinkTapConnection, LinkTapDirection, Int64, ByteBuffer, ReplayTimestamp)
        case closed(LinkTapConnection, sent: Int64, received: Int64, ReplayTimestamp)
    }

    private let queue: AsyncStream<Event>.Continuation
    private let worker: Task<Summary, Never>
    private let dropped = Counter(label: "ctibridge_record_dropped_total")

    private init(queue: AsyncStream<Event>.Continuation, worker: Task<Summary, Never>) {
        self.queue = queue
        self.worker = worker
    }

    /// Creates the first file (removing `FILE.1`, `FILE.2`, … of an earlier recording) and starts the writer.
    /// - Throws: ``RecordingFileError`` when the file cannot be created.
    public static func start(_ options: Options, logger: Logger) async throws(RecordingFileError) -> LinkCaptureRecorder {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        let files = RecordingFiles(path: options.path)
        let first: RecordingFile
        do {
            first = try await pool.runIfActive {
                let removed = files.removeLeftovers()
                if removed > 0 {
                    logger.info("removed the rotated files of an earlier recording", metadata: [
                        "path": "\(options.path)", "files": "\(removed)",
                    ])
                }
                return try RecordingFile(creating: files.name(0))
            }
        } catch {
            try? await pool.shutdownGracefully()
            throw error as? RecordingFileError
                ?? RecordingFileError(options.path, message: "cannot create \(options.path): \(error)")
        }
        let (stream, continuation) = AsyncStream.makeStream(
            of: Event.self, bufferingPolicy: .bufferingOldest(max(1, options.queueCapacity)))
        let worker = Task {
            let writer = RecordingWriter(options: options, files: files, first: first, pool: pool, logger: logger)
            return await writer.run(stream)
        }
        logger.info("recording the link", metadata: [
            "path": "\(options.path)", "maxBytes": "\(options.maximumFileBytes.map { "\($0)" } ?? "-")",
            "keep": "\(options.keep.map { "\($0)" } ?? "all")",
        ])
        return LinkCaptureRecorder(queue: continuation, worker: worker)
    }

    /// Stops taking traffic, closes the connections still open (FIN), writes what is queued and closes the file.
    @discardableResult
    public func finish() async -> Summary {
        queue.finish()
        return await worker.value
    }

    // MARK: LinkTap (called on event loops: stamp, copy, queue)

    public func linkOpened(_ connection: LinkTapConnection) {
        enqueue(.opened(connection, Self.now()))
    }

    public func linkBytes(
        _ bytes: ByteBuffer, direction: LinkTapDirection, streamOffset: Int64, connection: LinkTapConnection
    ) {
        // A copy of exactly the frame: a slice would keep the link's whole receive buffer alive while it waits.
        let copy = ByteBuffer(bytes: bytes.readableBytesView)
        enqueue(.bytes(connection, direction, streamOffset, copy, Self.now()))
    }

    public func linkClosed(_ connection: LinkTapConnection, sent: Int64, received: Int64) {
        enqueue(.closed(connection, sent: sent, received: received, Self.now()))
    }

    private func enqueue(_ event: Event) {
        if case .dropped = queue.yield(event) { dropped.increment() }
    }

    static func now() -> ReplayTimestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return ReplayTimestamp(seconds: Int64(ts.tv_sec), nanoseconds: UInt32(ts.tv_nsec))
    }
}
