// Privacy setters: each changes one part of the privacy state and applies the whole state to
// the core, which enforces it (a stricter state at send time also strips queued events). They
// never throw, as in Kotlin: a change the core cannot apply (after shutdown) is logged.
import Foundation

extension Conversions {
    /// Applies `privacy` as a whole. Opting out strips advertising ids from queued events before
    /// they are sent; disabling collection purges the buffer.
    public func setPrivacy(_ privacy: PrivacyState) {
        updatePrivacy { $0 = privacy }
    }

    /// Sets Limit Ad Tracking on top of the tracking authorization (the app's own opt-out
    /// switch). While on, events carry `opt_out: true` and never an advertising id. The ATT
    /// status itself is followed by the SDK (``refreshTrackingAuthorization()``).
    public func setLimitAdTracking(_ enabled: Bool) {
        updatePrivacy { $0.optOut = enabled }
    }

    /// Sets the raw advertising id (the IDFA), or clears it with `nil`. Only the SHA-256 of the
    /// lowercased id is kept; the all-zero id opts out, and any id is ignored without tracking
    /// authorization or while Limit Ad Tracking is on.
    public func setAdvertisingId(_ advertisingId: String?) {
        updatePrivacy { $0.advertisingId = advertisingId }
    }

    /// Sets Limited Data Processing: events carry `custom_data.opt_out_type = "ldp"`.
    public func setLimitedDataProcessing(_ enabled: Bool) {
        updatePrivacy { $0.limitedDataProcessing = enabled }
    }

    /// Turns collection on or off (the user's consent). Off: nothing is recorded or sent, the
    /// buffer is purged and ``track(_:)`` returns `recorded == false`. To also delete dead
    /// letters, call ``forget(timeout:)``.
    public func setCollectionEnabled(_ enabled: Bool) {
        updatePrivacy { $0.collectionEnabled = enabled }
    }
}
