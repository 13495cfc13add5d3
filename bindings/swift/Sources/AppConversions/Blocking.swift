// The one place where the SDK's waiting calls meet Swift concurrency: each runs on a
// background dispatch queue and resumes the awaiting task when it returns. Blocking the
// cooperative thread pool (or the main thread) with a bounded-but-long wait would stall
// unrelated tasks, so the waits get threads of their own.
import Foundation

enum Blocking {
    /// Concurrent, so a long flush does not hold up diagnostics or a shutdown.
    private static let queue = DispatchQueue(
        label: "dev.appconversions.blocking",
        qos: .utility,
        attributes: .concurrent
    )

    /// Runs a throwing call that waits, off the caller's thread.
    static func run<T>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                continuation.resume(with: Result { try work() })
            }
        }
    }

    /// Runs a call that waits and cannot fail, off the caller's thread.
    static func value<T>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: work())
            }
        }
    }

    /// A timeout in whole milliseconds for the core, at most a day; negative or not finite is zero.
    static func milliseconds(_ interval: TimeInterval) -> UInt64 {
        interval.isFinite && interval > 0 ? UInt64(min(interval, 86_400) * 1_000) : 0
    }
}
