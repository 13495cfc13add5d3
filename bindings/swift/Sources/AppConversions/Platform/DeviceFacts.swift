// App and device facts read from the platform: the main bundle, UIDevice, UIScreen, the locale
// and time zone, the hardware model identifier from uname (`iPhone15,2`, where UIDevice only
// says "iPhone"), the carrier where the OS still names one, and the CFNetwork-style user agent.
// None needs a permission; the core sends them in `app_info` and `device_info`.
import Foundation
#if canImport(UIKit)
import UIKit
#endif
#if os(iOS)
import CoreTelephony
#endif

extension AppInfo {
    /// This app's facts: bundle id (also as the package name), display name, version
    /// (`CFBundleShortVersionString`) and, on iOS, the install time (the creation date of the
    /// app's Documents folder). The store is left out: an app cannot tell the App Store from
    /// TestFlight or a development build without StoreKit's receipt checks.
    public static var current: AppInfo {
        let info = Bundle.main.infoDictionary ?? [:]
        return AppInfo(
            appId: Bundle.main.bundleIdentifier,
            appName: (info["CFBundleDisplayName"] ?? info["CFBundleName"]) as? String,
            appVersion: info["CFBundleShortVersionString"] as? String,
            firstInstallTime: StorageLocation.firstInstallTime(),
            appPackageName: Bundle.main.bundleIdentifier
        )
    }
}

extension DeviceInfo {
    /// This device's facts: brand, hardware model identifier, device type (`phone` or `tablet`
    /// on iOS), OS family and version, form factor, two-letter language, locale, preferred
    /// languages, time zone, screen size in pixels, CPU cores, carrier where the OS still names
    /// one, and the CFNetwork-style user agent. `wifi` and the network type are left to the
    /// network monitor unless given. No screen density: iOS has no API for the screen's PPI.
    ///
    /// Reading the carrier asks CoreTelephony, which can take long: ``Conversions/start(_:privacy:)``
    /// reads everything else here and the carrier on a background queue.
    @MainActor
    public static func current(wifi: Bool? = nil) -> DeviceInfo {
        current(wifi: wifi, carrier: DeviceFacts.carrier())
    }

    /// This device's facts with the carrier given, read on the main actor (UIDevice).
    @MainActor
    static func current(wifi: Bool?, carrier: String?) -> DeviceInfo {
        DeviceInfo(
            brand: "Apple",
            model: DeviceFacts.hardwareModel(),
            deviceType: DeviceFacts.deviceType(),
            osVersion: DeviceFacts.osVersion(),
            language: DeviceFacts.language(),
            carrier: carrier,
            wifi: wifi,
            userAgent: DeviceFacts.userAgent(),
            osFamily: DeviceFacts.osFamily(),
            formFactor: DeviceFacts.formFactor(),
            locale: DeviceFacts.locale(),
            languages: Locale.preferredLanguages,
            timezone: TimeZone.current.identifier,
            timezoneAbbr: TimeZone.current.abbreviation(),
            screenWidth: DeviceFacts.screenPixels()?.width,
            screenHeight: DeviceFacts.screenPixels()?.height,
            cpuCores: Int32(clamping: ProcessInfo.processInfo.activeProcessorCount)
        )
    }
}

extension Conversions {
    /// Reads the carrier on a background queue, where CoreTelephony may take its time, and
    /// applies it to the device facts of later events.
    func readCarrierInBackground() {
        DispatchQueue.global(qos: .utility).async { [weak self] in
            guard let carrier = DeviceFacts.carrier(), let self, self.device.carrier != carrier else {
                return
            }
            try? self.updateDevice { $0.carrier = carrier }
        }
    }
}

enum DeviceFacts {
    /// The hardware model identifier: `iPhone15,2` on a device, the simulated model in the
    /// simulator, the CPU architecture on a Mac.
    static func hardwareModel() -> String {
        if let simulated = ProcessInfo.processInfo.environment["SIMULATOR_MODEL_IDENTIFIER"] {
            return simulated
        }
        var system = utsname()
        uname(&system)
        return withUnsafeBytes(of: &system.machine) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// The Darwin kernel version, such as `23.4.0`.
    static func darwinVersion() -> String {
        var system = utsname()
        uname(&system)
        return withUnsafeBytes(of: &system.release) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// `phone` or `tablet` on iOS, `desktop` elsewhere.
    @MainActor
    static func deviceType() -> String {
        #if canImport(UIKit)
        return UIDevice.current.userInterfaceIdiom == .pad ? "tablet" : "phone"
        #else
        return "desktop"
        #endif
    }

    /// `ios` on an iPhone or iPad, `macos` for an iPhone or iPad app running on a Mac and on macOS.
    static func osFamily() -> OsFamily {
        #if canImport(UIKit) && !targetEnvironment(macCatalyst)
        return ProcessInfo.processInfo.isiOSAppOnMac ? .macos : .ios
        #else
        return .macos
        #endif
    }

    /// The form factor from the interface idiom: a phone, a tablet, a TV; `desktop` on a Mac.
    @MainActor
    static func formFactor() -> FormFactor {
        #if canImport(UIKit)
        switch UIDevice.current.userInterfaceIdiom {
        case .phone:
            return .cellphone
        case .pad:
            return .tablet
        case .tv:
            return .tv
        case .mac:
            return .desktop
        default:
            return .other
        }
        #else
        return .desktop
        #endif
    }

    /// The screen's size in pixels, in portrait (`nativeBounds`); nil without UIKit.
    @MainActor
    static func screenPixels() -> (width: Int32, height: Int32)? {
        #if canImport(UIKit) && !os(watchOS)
        let bounds = UIScreen.main.nativeBounds
        return (Int32(clamping: Int(bounds.width)), Int32(clamping: Int(bounds.height)))
        #else
        return nil
        #endif
    }

    /// The locale as iOS spells it (`en_GB`; the core sends `en-GB`), without its `@` keywords
    /// (`@calendar=japanese`).
    static func locale() -> String {
        String(Locale.current.identifier.prefix { $0 != "@" })
    }

    /// The OS version, such as `17.4`.
    @MainActor
    static func osVersion() -> String {
        #if canImport(UIKit)
        return UIDevice.current.systemVersion
        #else
        let version = ProcessInfo.processInfo.operatingSystemVersion
        return "\(version.majorVersion).\(version.minorVersion).\(version.patchVersion)"
        #endif
    }

    /// The user's first preferred language as a two-letter ISO-639-1 code; `nil` for languages
    /// that only have a longer code (the core accepts two letters only).
    static func language() -> String? {
        guard let preferred = Locale.preferredLanguages.first else {
            return nil
        }
        let code = preferred.prefix { $0 != "-" && $0 != "_" }.lowercased()
        return code.count == 2 && code.allSatisfy { $0.isASCII && $0.isLetter } ? code : nil
    }

    /// The carrier's name where the OS still gives one. Since iOS 16 it answers `--` or nothing
    /// (the API is deprecated without replacement), which counts as no carrier.
    static func carrier() -> String? {
        #if os(iOS)
        let names = CTTelephonyNetworkInfo().serviceSubscriberCellularProviders?.values
            .compactMap { $0.carrierName }
            .filter { !$0.isEmpty && $0 != "--" }
        return names?.first
        #else
        return nil
        #endif
    }

    /// The user agent CFNetwork sends for this app, `<App>/<build> CFNetwork/<version> Darwin/<version>`,
    /// the platform's standard HTTP user agent that the API pairs with the client IP.
    static func userAgent(bundle: Bundle = .main) -> String {
        let info = bundle.infoDictionary ?? [:]
        let name = (info["CFBundleExecutable"] as? String) ?? "App"
        let build = (info["CFBundleVersion"] as? String) ?? "1"
        let network = Bundle(identifier: "com.apple.CFNetwork")?
            .infoDictionary?["CFBundleShortVersionString"] as? String ?? "0"
        let product = name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "App"
        return "\(product)/\(build) CFNetwork/\(network) Darwin/\(darwinVersion())"
    }
}
