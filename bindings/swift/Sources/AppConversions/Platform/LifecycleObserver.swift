// The iOS lifecycle from UIKit's notifications: launch, foreground and background. A launch
// counts only when the app is (or becomes) active: a background launch (a silent push, a
// background fetch) records nothing until the user opens the app. Going to the background also
// flushes, inside a background task so the system lets the upload finish (bounded, and ended
// early if the system asks for the time back). The tracking status is read again whenever the
// app becomes active, which is also when the system's tracking prompt closes.
#if canImport(UIKit)
import UIKit

/// Forwards UIApplication's notifications to the SDK, on the main thread where UIKit posts them.
@MainActor
final class LifecycleObserver: NSObject {
    /// Longest wait for the background flush; the system grants background tasks about 30 s.
    private static let backgroundFlushTimeout: TimeInterval = 20

    private weak var conversions: Conversions?
    private let followsTrackingAuthorization: Bool

    /// True when a launch seen in `state` is one the user sees: not a background launch.
    nonisolated static func recordsLaunch(in state: UIApplication.State) -> Bool {
        state != .background
    }

    /// Records the launch now unless the app was launched in the background, and observes the
    /// lifecycle from here on. The core counts one launch per process, so reporting it again
    /// when the app becomes active (or on `didFinishLaunchingNotification`, in case the SDK
    /// starts before UIKit posts it) records nothing twice.
    init(conversions: Conversions, followsTrackingAuthorization: Bool) {
        self.conversions = conversions
        self.followsTrackingAuthorization = followsTrackingAuthorization
        super.init()
        let center = NotificationCenter.default
        center.addObserver(self, selector: #selector(didFinishLaunching),
                           name: UIApplication.didFinishLaunchingNotification, object: nil)
        center.addObserver(self, selector: #selector(didBecomeActive),
                           name: UIApplication.didBecomeActiveNotification, object: nil)
        center.addObserver(self, selector: #selector(willEnterForeground),
                           name: UIApplication.willEnterForegroundNotification, object: nil)
        center.addObserver(self, selector: #selector(didEnterBackground),
                           name: UIApplication.didEnterBackgroundNotification, object: nil)
        refreshTracking()
        launchIfVisible()
    }

    private func launchIfVisible() {
        if Self.recordsLaunch(in: UIApplication.shared.applicationState) {
            conversions?.onLaunch()
        }
    }

    private func refreshTracking() {
        if followsTrackingAuthorization {
            #if canImport(AppTrackingTransparency)
            conversions?.refreshTrackingAuthorization()
            #endif
        }
    }

    @objc private func didFinishLaunching() {
        launchIfVisible()
    }

    @objc private func didBecomeActive() {
        refreshTracking()
        conversions?.onLaunch()
    }

    @objc private func willEnterForeground() {
        refreshTracking()
        conversions?.onForeground()
    }

    @objc private func didEnterBackground() {
        guard let conversions else {
            return
        }
        conversions.onBackground()
        let task = BackgroundFlushTask(name: "dev.appconversions.flush")
        Task {
            _ = try? await conversions.flush(timeout: Self.backgroundFlushTimeout)
            task.end()
        }
    }
}

/// A UIKit background task that ends once, whichever comes first: `end()` or the system's
/// expiration.
@MainActor
private final class BackgroundFlushTask {
    private var identifier = UIBackgroundTaskIdentifier.invalid

    init(name: String) {
        identifier = UIApplication.shared.beginBackgroundTask(withName: name) { [weak self] in
            self?.end()
        }
    }

    func end() {
        guard identifier != .invalid else {
            return
        }
        UIApplication.shared.endBackgroundTask(identifier)
        identifier = .invalid
    }
}
#endif
