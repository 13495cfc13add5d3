// Closures to the callback protocols the core calls on its own threads. Each adapter only
// holds a `@Sendable` closure, so it is safe to call from any thread.

/// Forwards each request's outcome to a closure.
final class DeliveryListenerAdapter: DeliveryListener {
    private let handler: @Sendable (BatchOutcome) -> Void

    init(onBatch handler: @escaping @Sendable (BatchOutcome) -> Void) {
        self.handler = handler
    }

    func onBatch(outcome: BatchOutcome) {
        handler(outcome)
    }
}

/// Forwards each log line to a closure.
final class LogSinkAdapter: LogSink {
    private let handler: @Sendable (LogLevel, String) -> Void

    init(write handler: @escaping @Sendable (LogLevel, String) -> Void) {
        self.handler = handler
    }

    func log(level: LogLevel, message: String) {
        handler(level, message)
    }
}
