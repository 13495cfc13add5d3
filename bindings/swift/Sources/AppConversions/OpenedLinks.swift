// Opened links: the Pinterest click id (`epik`) of a URL that opens the app, handed to the core,
// which keeps it for later events (see `handle_open_url` in the core's client). SwiftUI's
// `onOpenURL`, UIKit's `application(_:open:options:)` and universal links
// (`NSUserActivity.webpageURL`) all end in `handle(url:)`.
import Foundation
#if canImport(UIKit)
import UIKit
#endif

extension Conversions {
    /// Hands a URL that opened the app to the SDK: its Pinterest click id (`epik`, in the query
    /// or the fragment) is kept and sent as `user_data.click_id` on later events for 30 days
    /// (the core's `click_id_ttl_secs`). Call it from `onOpenURL`,
    /// `application(_:open:options:)` and `scene(_:openURLContexts:)`. Never throws.
    ///
    /// - Returns: true when a click id was kept; false when the URL has none, an unusable one
    ///   (logged), collection is disabled, or the SDK is shut down.
    @discardableResult
    public func handle(url: URL) -> Bool {
        do {
            return try client.handleOpenUrl(url: url.absoluteString)
        } catch {
            return false
        }
    }

    /// Hands a universal link (`NSUserActivityTypeBrowsingWeb`) to ``handle(url:)``: call it
    /// from `application(_:continue:restorationHandler:)`, `scene(_:continue:)` or SwiftUI's
    /// `onContinueUserActivity(NSUserActivityTypeBrowsingWeb)`.
    ///
    /// - Returns: true when the activity's web page URL carried a click id that was kept.
    @discardableResult
    public func handle(userActivity: NSUserActivity) -> Bool {
        guard userActivity.activityType == NSUserActivityTypeBrowsingWeb,
              let url = userActivity.webpageURL
        else { return false }
        return handle(url: url)
    }

    #if canImport(UIKit)
    /// Hands the URLs of `scene(_:openURLContexts:)` to ``handle(url:)``.
    ///
    /// - Returns: true when one of them carried a click id that was kept.
    @discardableResult
    public func handle(urlContexts: Set<UIOpenURLContext>) -> Bool {
        urlContexts.map { handle(url: $0.url) }.contains(true)
    }
    #endif
}
