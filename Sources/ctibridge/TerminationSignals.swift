import Dispatch

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// SIGINT and SIGTERM, watched from the moment this is made: their default action (ending the process on the spot) is
/// turned off, and ``wait()`` returns at the first one. Make it before anything a signal should be able to stop, so no
/// signal falls into a gap between "started" and "listening for signals".
final class TerminationSignals {
    private let stream: AsyncStream<Int32>
    private let sources: [any DispatchSourceSignal]

    init() {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        let (stream, continuation) = AsyncStream<Int32>.makeStream()
        let queue = DispatchQueue(label: "ctibridge.signals")
        self.stream = stream
        self.sources = [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { continuation.yield(number) }
            source.resume()
            return source
        }
    }

    /// Waits for SIGINT or SIGTERM and returns its number.
    @discardableResult
    func wait() async -> Int32 {
        var received: Int32 = SIGTERM
        for await number in stream {
            received = number
            break
        }
        for source in sources { source.cancel() }
        return received
    }
}

@available(*, unavailable)
extension TerminationSignals: Sendable {}
