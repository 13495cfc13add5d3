// Network changes from NWPathMonitor: the `wifi` and network-type device facts follow the
// current path (a cellular path's generation from CoreTelephony's radio access technology,
// which needs no permission), and a path that becomes usable again makes delivery retry at
// once instead of waiting out its backoff.
import Foundation
import Network
#if os(iOS)
import CoreTelephony
#endif

/// Watches the network path on a queue of its own and reports each change.
final class NetworkMonitor {
    private let monitor = NWPathMonitor()

    /// Starts watching; `onChange` hears whether the path is usable, whether it is wifi and
    /// its network type (nil when unusable).
    init(onChange: @escaping @Sendable (_ usable: Bool, _ wifi: Bool, _ type: NetworkType?) -> Void) {
        monitor.pathUpdateHandler = { path in
            let usable = path.status == .satisfied
            onChange(usable, path.usesInterfaceType(.wifi), usable ? NetworkMonitor.networkType(of: path) : nil)
        }
        monitor.start(queue: DispatchQueue(label: "dev.appconversions.network", qos: .utility))
    }

    deinit {
        monitor.cancel()
    }

    /// The kind of a usable path: wifi, ethernet, a cellular generation, or unknown.
    static func networkType(of path: NWPath) -> NetworkType {
        if path.usesInterfaceType(.wifi) {
            return .wifi
        }
        if path.usesInterfaceType(.wiredEthernet) {
            return .ethernet
        }
        if path.usesInterfaceType(.cellular) {
            return cellularGeneration()
        }
        return .unknown
    }

    /// The generation of the cellular data network from its radio access technology.
    static func cellularGeneration() -> NetworkType {
        #if os(iOS)
        guard let technology = CTTelephonyNetworkInfo().serviceCurrentRadioAccessTechnology?.values.first else {
            return .unknown
        }
        return generation(ofRadioAccessTechnology: technology)
        #else
        return .unknown
        #endif
    }

    /// The generation a `CTRadioAccessTechnology*` value names.
    static func generation(ofRadioAccessTechnology technology: String) -> NetworkType {
        switch technology.replacingOccurrences(of: "CTRadioAccessTechnology", with: "") {
        case "NR", "NRNSA":
            return .cellular5g
        case "LTE":
            return .cellular4g
        case "WCDMA", "HSDPA", "HSUPA", "CDMAEVDORev0", "CDMAEVDORevA", "CDMAEVDORevB", "eHRPD":
            return .cellular3g
        case "GPRS", "Edge", "CDMA1x":
            return .cellular2g
        default:
            return .unknown
        }
    }
}

extension Conversions {
    /// Follows the network for as long as this instance lives.
    func startNetworkMonitoring() {
        let state = PathState()
        keepAlive(NetworkMonitor { [weak self] usable, wifi, type in
            guard let self else {
                return
            }
            if self.device.wifi != wifi || self.device.networkType != type {
                try? self.updateDevice {
                    $0.wifi = wifi
                    $0.networkType = type
                }
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
