// The test double: records what the app tracked, in order, and the privacy it set, in memory.
// It loads no native library and starts no thread, so an app's unit tests run anywhere and
// fast. It does not validate events (the core does that; its rules are tested in this
// repository): it answers `recorded == true` unless collection is disabled, as the SDK would.
import Foundation

/// Records what an app tracked, for its unit tests. Create it with
/// ``Conversions/forUnitTests()`` and pass it where the app takes a ``ConversionsTracking``:
///
/// ```swift
/// let conversions = Conversions.forUnitTests()
/// let cart = Cart(conversions: conversions)
/// cart.checkOut(order)
/// let checkout = try conversions.verifyTracked(.checkout)
/// XCTAssertEqual(checkout.customData?.value, "24.99")
/// ```
public final class RecordingConversions: ConversionsTracking, @unchecked Sendable {
    /// A ``RecordingConversions/verifyTracked(_:times:)`` or
    /// ``RecordingConversions/verifyNothingTracked()`` that did not hold; its description says
    /// what was tracked instead.
    public struct Mismatch: Error, CustomStringConvertible {
        /// What was expected and what was tracked.
        public let description: String
    }

    private let lock = NSLock()
    private var recorded: [Event] = []
    private var currentPrivacy = PrivacyState()
    private var flushes = 0

    /// A double with nothing recorded and the default privacy state.
    public init() {}

    /// Every event recorded, in order, each with the event id its `track` returned.
    public var events: [Event] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    /// The privacy state the app last set.
    public var privacy: PrivacyState {
        lock.lock()
        defer { lock.unlock() }
        return currentPrivacy
    }

    /// How many times the app flushed.
    public var flushCount: Int {
        lock.lock()
        defer { lock.unlock() }
        return flushes
    }

    /// The recorded events of the standard type `name`, in order.
    public func events(named name: EventName) -> [Event] {
        events.filter { $0.name == name }
    }

    /// The recorded advertiser-defined events called `name`, in order.
    public func customEvents(named name: String) -> [Event] {
        events.filter { $0.name == .custom && $0.customEventName == name }
    }

    /// Forgets everything recorded and restores the default privacy state.
    public func reset() {
        lock.lock()
        defer { lock.unlock() }
        recorded = []
        currentPrivacy = PrivacyState()
        flushes = 0
    }

    /// Returns the last event of type `name` when exactly `times` were recorded.
    ///
    /// - Throws: ``Mismatch`` naming what was recorded instead.
    @discardableResult
    public func verifyTracked(_ name: EventName, times: Int = 1) throws -> Event {
        let matching = events(named: name)
        guard matching.count == times, let last = matching.last else {
            throw Mismatch(description: "expected \(times) \(name) event(s), recorded \(matching.count); all recorded: \(summary)")
        }
        return last
    }

    /// Succeeds when nothing was recorded.
    ///
    /// - Throws: ``Mismatch`` naming what was recorded.
    public func verifyNothingTracked() throws {
        let all = events
        if !all.isEmpty {
            throw Mismatch(description: "expected no event, recorded \(all.count): \(summary)")
        }
    }

    /// Records `event` (with a generated event id when it has none), unless collection is
    /// disabled, and returns what the SDK would.
    @discardableResult
    public func track(_ event: Event) -> TrackResult {
        var withId = event
        let eventId = event.eventId ?? UUID().uuidString.lowercased()
        withId.eventId = eventId
        lock.lock()
        defer { lock.unlock() }
        guard currentPrivacy.collectionEnabled else {
            return TrackResult(eventId: eventId, recorded: false, warnings: [])
        }
        recorded.append(withId)
        return TrackResult(eventId: eventId, recorded: true, warnings: [])
    }

    /// Remembers `privacy`.
    public func setPrivacy(_ privacy: PrivacyState) {
        update { $0 = privacy }
    }

    /// Remembers Limit Ad Tracking.
    public func setLimitAdTracking(_ enabled: Bool) {
        update { $0.optOut = enabled }
    }

    /// Remembers the advertising id.
    public func setAdvertisingId(_ advertisingId: String?) {
        update { $0.advertisingId = advertisingId }
    }

    /// Remembers Limited Data Processing.
    public func setLimitedDataProcessing(_ enabled: Bool) {
        update { $0.limitedDataProcessing = enabled }
    }

    /// Remembers the consent; while off, `track` records nothing, as the SDK.
    public func setCollectionEnabled(_ enabled: Bool) {
        update { $0.collectionEnabled = enabled }
    }

    /// Counts the flush and reports every recorded event as processed; never waits.
    public func flush(timeout: TimeInterval) async throws -> FlushReport {
        lock.lock()
        defer { lock.unlock() }
        flushes += 1
        let count = UInt64(recorded.count)
        return FlushReport(sent: count, processed: count, failed: 0, remaining: 0, lastStatus: nil, timedOut: false)
    }

    private func update(_ change: (inout PrivacyState) -> Void) {
        lock.lock()
        defer { lock.unlock() }
        change(&currentPrivacy)
    }

    /// `checkout A-1001, lead`: what was recorded, for a mismatch's message.
    private var summary: String {
        let names = events.map { event -> String in
            let name = event.name == .custom ? (event.customEventName ?? "custom") : "\(event.name)"
            return [name, event.eventId].compactMap { $0 }.joined(separator: " ")
        }
        return names.isEmpty ? "nothing" : names.joined(separator: ", ")
    }
}
