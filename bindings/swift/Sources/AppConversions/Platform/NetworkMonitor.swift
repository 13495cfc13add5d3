// Network changes from NWPathMonitor: the `wifi` device fact follows the current path, and a
// path that becomes usable again makes delivery retry at once instead of waiting out its
// backoff.
import Foundation
import Network

/// Watches the network path on a queue of its own and reports each change.
final class NetworkMonitor {
    private let monitor = NWPathMonitor()

    /// Starts watching; `onChange` hears whether the path is usable and whether it is wifi.
    init(onChange: @escaping @Sendable (_ usable: Bool, _ wifi: Bool) -> Void) {
        monitor.pathUpdateHandler = { path in
            onChange(path.status == .satisfied, path.usesInterfaceType(.wifi))
        }
        monitor.start(queue: DispatchQueue(label: "dev.appconversions.network", qos: .utility))
    }

    deinit {
        monitor.cancel()
    }
}

extension Conversions {
    /// Follows the network for as long as this instance lives.
    func startNetworkMonitoring() {
        let state = PathState()
        keepAlive(NetworkMonitor { [weak self] usable, wifi in
            guard let self else {
                return
            }
            if self.device.wifi != wifi {
                try? self.updateDevice { $0.wifi = wifi }
            }
            if state.becameUsable(usable) {
                self.onNetworkAvailable()
            }
        })
    }
}

/// Remembers whether the last path was usable, to tell a regained connection from the first
/// report. Only touched on the monitor's serial queue.
private final class PathState: @unchecked Sendable {
    private var lastUsable: Bool?

    /// True when the path is usable now and was not at the previous report.
    func becameUsable(_ usable: Bool) -> Bool {
        defer { lastUsable = usable }
        return usable && lastUsable == false
    }
}
