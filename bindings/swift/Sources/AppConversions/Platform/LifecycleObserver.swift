// The iOS lifecycle from UIKit's notifications: launch, foreground and background. Going to
// the background also flushes, inside a background task so the system lets the upload finish
// (bounded, and ended early if the system asks for the time back).
#if canImport(UIKit)
import UIKit

/// Forwards UIApplication's notifications to the SDK, on the main thread where UIKit posts them.
@MainActor
final class LifecycleObserver: NSObject {
    /// Longest wait for the background flush; the system grants background tasks about 30 s.
    private static let backgroundFlushTimeout: TimeInterval = 20

    private weak var conversions: Conversions?

    /// Records the launch now and observes the lifecycle from here on. The launch is also
    /// reported on `didFinishLaunchingNotification`, in case the SDK starts before UIKit posts
    /// it; the core counts one launch per process.
    init(conversions: Conversions) {
        self.conversions = conversions
        super.init()
        let center = NotificationCenter.default
        center.addObserver(self, selector: #selector(didFinishLaunching),
                           name: UIApplication.didFinishLaunchingNotification, object: nil)
        center.addObserver(self, selector: #selector(willEnterForeground),
                           name: UIApplication.willEnterForegroundNotification, object: nil)
        center.addObserver(self, selector: #selector(didEnterBackground),
                           name: UIApplication.didEnterBackgroundNotification, object: nil)
        try? conversions.onLaunch()
    }

    @objc private func didFinishLaunching() {
        try? conversions?.onLaunch()
    }

    @objc private func willEnterForeground() {
        try? conversions?.onForeground()
    }

    @objc private func didEnterBackground() {
        guard let conversions else {
            return
        }
        try? conversions.onBackground()
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
