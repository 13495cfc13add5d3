// App Tracking Transparency mapped onto the privacy state. The SDK never asks for
// authorization and never reads the IDFA itself (it does not link AdSupport): the app hands in
// both, so the prompt and the advertising identifier stay under the app's control.
#if canImport(AppTrackingTransparency)
import AppTrackingTransparency
import Foundation

extension PrivacyState {
    /// The privacy state for an App Tracking Transparency status. Only `authorized` passes the
    /// IDFA and leaves Limit Ad Tracking off; `denied`, `restricted` and `notDetermined` opt out
    /// and pass no advertising id.
    ///
    /// - Parameters:
    ///   - status: `ATTrackingManager.trackingAuthorizationStatus`, read by the app.
    ///   - advertisingIdentifier: `ASIdentifierManager.shared().advertisingIdentifier`, read by the app.
    ///   - limitedDataProcessing: Limited Data Processing (`opt_out_type: ldp`).
    ///   - collectionEnabled: false when the user withdrew consent.
    public init(
        trackingAuthorization status: ATTrackingManager.AuthorizationStatus,
        advertisingIdentifier: UUID?,
        limitedDataProcessing: Bool = false,
        collectionEnabled: Bool = true
    ) {
        let authorized = status == .authorized
        self.init(
            optOut: !authorized,
            advertisingId: authorized ? advertisingIdentifier?.uuidString : nil,
            limitedDataProcessing: limitedDataProcessing,
            collectionEnabled: collectionEnabled
        )
    }
}

extension Conversions {
    /// Applies an App Tracking Transparency status, for example after the app's own prompt:
    /// `authorized` sets the IDFA and turns Limit Ad Tracking off; any other status turns it on
    /// and clears the id. Queued events lose their advertising id if they have not left yet.
    public func setTrackingAuthorization(
        _ status: ATTrackingManager.AuthorizationStatus,
        advertisingIdentifier: UUID?
    ) throws {
        let mapped = PrivacyState(trackingAuthorization: status, advertisingIdentifier: advertisingIdentifier)
        try updatePrivacy { privacy in
            privacy.optOut = mapped.optOut
            privacy.advertisingId = mapped.advertisingId
        }
    }
}
#endif
