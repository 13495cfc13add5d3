// What an app calls on the SDK, as a protocol, so the app's own code can take a
// `ConversionsTracking` and its unit tests hand it `Conversions.forUnitTests()` (a
// `RecordingConversions`) instead of the real SDK. The typed helpers (`checkout`, `lead`, ...)
// are extensions of the protocol, so they record on the double exactly as on the SDK.
import Foundation

/// The recording surface of the SDK: tracking and the privacy setters, and a flush.
/// ``Conversions`` implements it; so does ``RecordingConversions``, the test double.
public protocol ConversionsTracking: AnyObject {
    /// Records `event` (see ``Conversions/track(_:)``); never throws.
    @discardableResult
    func track(_ event: Event) -> TrackResult
    /// Applies a whole privacy state.
    func setPrivacy(_ privacy: PrivacyState)
    /// Sets Limit Ad Tracking.
    func setLimitAdTracking(_ enabled: Bool)
    /// Sets or clears the raw advertising id.
    func setAdvertisingId(_ advertisingId: String?)
    /// Sets Limited Data Processing.
    func setLimitedDataProcessing(_ enabled: Bool)
    /// Turns collection (the user's consent) on or off.
    func setCollectionEnabled(_ enabled: Bool)
    /// Sends what is due, waiting at most `timeout` seconds.
    func flush(timeout: TimeInterval) async throws -> FlushReport
}

extension Conversions: ConversionsTracking {
    /// A recording double for an app's unit tests: no native library, no threads, no disk.
    /// See ``RecordingConversions``.
    public static func forUnitTests() -> RecordingConversions {
        RecordingConversions()
    }
}
