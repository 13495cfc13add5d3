// Flushing: it waits off the main actor, reports what happened, feeds the listener and the log
// sink, keeps events after a server error, and refuses work after shutdown.
import AppConversions
import XCTest

final class FlushTests: SandboxTestCase {
    @MainActor
    func testFlushWaitsWithoutBlockingTheMainActor() async throws {
        try await sandbox.fault(#"{"kind":"delay","millis":500}"#)
        let conversions = try start()
        conversions.lead(user: Self.shopper)
        let finished = Flag()

        let flush = Task { @MainActor () async throws -> FlushReport in
            defer { finished.value = true }
            return try await conversions.flush()
        }
        // Queued on the main actor behind the flush: it runs while the flush waits only if the
        // flush gave the main actor back.
        let ranDuringFlush = await Task { @MainActor in !finished.value }.value

        XCTAssertTrue(ranDuringFlush)
        // The uploader may send the event as soon as the buffer opens, before the flush
        // begins; either way the flush ends with nothing left.
        let report = try await flush.value
        XCTAssertEqual(report.remaining, 0)
        XCTAssertFalse(report.timedOut)
    }

    func testFlushReportsWhatWasDeliveredAndTheListenerAndLogSinkHearIt() async throws {
        let conversions = try start { $0.logLevel = .debug }
        let outcomes = Collected<BatchOutcome>()
        let lines = Collected<String>()
        conversions.setDeliveryListener { outcomes.append($0) }
        conversions.setLogSink { _, message in lines.append(message) }

        for _ in 0..<3 {
            conversions.signup(user: Self.shopper)
        }
        let report = try await conversions.flush()

        XCTAssertEqual(report.processed, 3)
        XCTAssertEqual(report.remaining, 0)
        XCTAssertFalse(report.timedOut)
        XCTAssertEqual(outcomes.items.reduce(0) { $0 + $1.processed }, 3)
        XCTAssertFalse(lines.items.isEmpty)
        XCTAssertFalse(lines.items.contains { $0.contains(sandbox.token) }, "the token never reaches a log line")
        let diagnostics = await conversions.diagnostics()
        XCTAssertEqual(diagnostics.delivered, 3)
    }

    func testAServerErrorLeavesTheEventsQueuedForARetry() async throws {
        try await sandbox.fault(#"{"status":503,"retry_after":"3600"}"#)
        let conversions = try start()
        conversions.lead(user: Self.shopper)

        let report = try await conversions.flush(timeout: 10)

        XCTAssertEqual(report.remaining, 1)
        let diagnostics = await conversions.diagnostics()
        XCTAssertEqual(diagnostics.queued, 1)
        XCTAssertEqual(diagnostics.lastStatus, 503)
        let accepted = try await sandbox.accepted()
        XCTAssertTrue(accepted.isEmpty)
    }

    func testAfterShutdownTrackOrThrowThrowsShutDownAndHelpersRecordNothing() async throws {
        let conversions = try start()
        try await conversions.shutdown()

        XCTAssertThrowsError(try conversions.trackOrThrow(Event(name: .lead, userData: Self.shopper))) { error in
            XCTAssertEqual(error as? AppConversionsError, .shutDown)
        }
        let result = conversions.lead(user: Self.shopper)
        XCTAssertFalse(result.recorded, "a helper after shutdown records nothing and does not throw")
        do {
            _ = try await conversions.flush()
            XCTFail("flush after shutdown must throw")
        } catch {
            XCTAssertEqual(error as? AppConversionsError, .shutDown)
        }
    }
}

/// Set on the main actor when the flush has finished.
@MainActor
private final class Flag {
    var value = false
}

/// Values appended from the SDK's threads.
final class Collected<Element>: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [Element] = []

    func append(_ value: Element) {
        lock.lock()
        defer { lock.unlock() }
        values.append(value)
    }

    var items: [Element] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}
