// App Tracking Transparency mapped onto the privacy state. The SDK never asks for
// authorization (the prompt stays the app's), but it reads the status and the IDFA at start and
// on every return to the foreground, and applies them when either changed: an answer given in
// the app's own prompt, or changed later in Settings, reaches the core without the app's help.
// The core decides what the status means for each field (see the privacy table in docs/privacy.md).
#if canImport(AppTrackingTransparency)
import AppTrackingTransparency
import Foundation
#if canImport(AdSupport)
import AdSupport
#endif

extension TrackingAuthorization {
    /// The core's value for an App Tracking Transparency status (an unknown future status
    /// counts as denied).
    public init(_ status: ATTrackingManager.AuthorizationStatus) {
        switch status {
        case .authorized: self = .authorized
        case .denied: self = .denied
        case .restricted: self = .restricted
        case .notDetermined: self = .notDetermined
        @unknown default: self = .denied
        }
    }
}

extension PrivacyState {
    /// The privacy state for an App Tracking Transparency status. The IDFA is passed only when
    /// `authorized`; without authorization the core opts out and sends no user-data identifier.
    ///
    /// - Parameters:
    ///   - status: `ATTrackingManager.trackingAuthorizationStatus`.
    ///   - advertisingIdentifier: `ASIdentifierManager.shared().advertisingIdentifier`.
    ///   - limitedDataProcessing: Limited Data Processing (`opt_out_type: ldp`).
    ///   - collectionEnabled: false while the user has not consented (or withdrew consent).
    public init(
        trackingAuthorization status: ATTrackingManager.AuthorizationStatus,
        advertisingIdentifier: UUID?,
        limitedDataProcessing: Bool = false,
        collectionEnabled: Bool = true
    ) {
        self.init(
            optOut: false,
            trackingAuthorization: TrackingAuthorization(status),
            advertisingId: status == .authorized ? advertisingIdentifier?.uuidString : nil,
            limitedDataProcessing: limitedDataProcessing,
            collectionEnabled: collectionEnabled
        )
    }
}

/// The tracking facts the OS reports right now.
struct TrackingFacts: Equatable {
    var authorization: TrackingAuthorization
    var advertisingId: String?

    /// The privacy state these facts make, everything else at its default.
    var privacyState: PrivacyState {
        var privacy = PrivacyState()
        privacy.trackingAuthorization = authorization
        privacy.advertisingId = advertisingId
        return privacy
    }

    /// Reads `ATTrackingManager.trackingAuthorizationStatus` and, when authorized, the IDFA
    /// (all zeros otherwise, which the core treats as no id anyway).
    static func current() -> TrackingFacts {
        let status = ATTrackingManager.trackingAuthorizationStatus
        var advertisingId: String?
        #if canImport(AdSupport)
        if status == .authorized {
            advertisingId = ASIdentifierManager.shared().advertisingIdentifier.uuidString
        }
        #endif
        return TrackingFacts(authorization: TrackingAuthorization(status), advertisingId: advertisingId)
    }

    /// True when `privacy` already carries these facts.
    func matches(_ privacy: PrivacyState) -> Bool {
        privacy.trackingAuthorization == authorization && privacy.advertisingId == advertisingId
    }
}

extension Conversions {
    /// Applies an App Tracking Transparency status and the IDFA, for example in your prompt's
    /// completion handler. Queued events lose what the new status forbids before they leave;
    /// a first launch's `app_install` waiting for the answer is released with it.
    public func setTrackingAuthorization(
        _ status: ATTrackingManager.AuthorizationStatus,
        advertisingIdentifier: UUID?
    ) {
        let mapped = PrivacyState(trackingAuthorization: status, advertisingIdentifier: advertisingIdentifier)
        updatePrivacy { privacy in
            privacy.trackingAuthorization = mapped.trackingAuthorization
            privacy.advertisingId = mapped.advertisingId
        }
    }

    /// Reads the tracking status and the IDFA again and applies them if either changed. The
    /// SDK calls it at start and whenever the app becomes active (which is also when the
    /// system's tracking prompt closes), unless
    /// ``Configuration/followsTrackingAuthorization`` is false.
    public func refreshTrackingAuthorization() {
        let facts = TrackingFacts.current()
        guard !facts.matches(privacy) else {
            return
        }
        updatePrivacy { privacy in
            privacy.trackingAuthorization = facts.authorization
            privacy.advertisingId = facts.advertisingId
        }
    }
}
#endif
