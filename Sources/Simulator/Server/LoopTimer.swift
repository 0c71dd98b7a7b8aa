import NIOCore

/// A repeating timer for loop-bound code: NIO's `RepeatedTask` wants `@Sendable` closures, this one runs a plain
/// closure on the loop it was made on.
final class LoopTimer {
    private var scheduled: Scheduled<Void>?
    private var cancelled = false

    /// Runs `body` every `interval` (first after one interval) on `loop`, which must be the current loop.
    static func repeating(on loop: any EventLoop, every interval: TimeAmount, _ body: @escaping () -> Void) -> LoopTimer {
        let timer = LoopTimer()
        timer.arm(loop, interval, body)
        return timer
    }

    func cancel() {
        cancelled = true
        scheduled?.cancel()
        scheduled = nil
    }

    private func arm(_ loop: any EventLoop, _ interval: TimeAmount, _ body: @escaping () -> Void) {
        scheduled = loop.assumeIsolated().scheduleTask(in: interval) { [self] in
            guard !cancelled else { return }
            body()
            if !cancelled { arm(loop, interval, body) }
        }
    }
}

@available(*, unavailable)
extension LoopTimer: Sendable {}
