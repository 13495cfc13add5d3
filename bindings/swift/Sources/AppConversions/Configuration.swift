// The Swift-side configuration: the handful of settings an iOS app chooses, mapped onto the
// core's `ClientConfig` (whose other tunables keep the core's defaults). Platform facts such as
// the action source and the database location are filled in here, not by the app.
import Foundation

extension Conversions {
    /// What the SDK needs to start: where to send events, for which ad account, with which
    /// token, and a few behaviours.
    ///
    /// ```swift
    /// let configuration = Conversions.Configuration(
    ///     endpoint: URL(string: "https://conversions.example.com")!,
    ///     adAccountId: "549768257474",
    ///     token: relayToken
    /// )
    /// ```
    public struct Configuration {
        /// Base URL of your relay (recommended; a path prefix such as
        /// `https://shop.example.com/conversions` is kept, and the SDK appends
        /// `/v5/ad_accounts/{id}/events`) or of the Conversions API. Plain `http://` is accepted
        /// only for loopback addresses, such as a local sandbox in tests.
        public var endpoint: URL
        /// The ad account id, digits only.
        public var adAccountId: String
        /// The bearer token for ``endpoint`` (in production an app-scoped relay token). Kept in
        /// memory only; replace it later with ``Conversions/setToken(_:)``.
        public var token: String
        /// Whether ``endpoint`` is a relay that adds the user's IP address. `nil` (the default)
        /// lets the host decide: `api.pinterest.com` is the Conversions API, any other host a
        /// relay. Set it only for an unusual setup, such as a proxy in front of the API
        /// (`false`). Sent directly to the API, an event with no email, no advertising id and
        /// no IP is dropped (and counted).
        public var endpointIsRelay: Bool?
        /// Sends events as test events (`?test=true`): validated by the endpoint, not recorded.
        public var testMode: Bool
        /// Where the SQLite buffer lives; `nil` picks `Application Support/AppConversions`,
        /// excluded from backups.
        public var databaseURL: URL?
        /// How much the SDK logs (to the unified log when started with
        /// ``Conversions/start(_:privacy:)``).
        public var logLevel: LogLevel
        /// Sent as `partner_name` when set (convention `ss-<partner>`).
        public var partnerName: String?
        /// How often waiting events are sent when nothing else triggers a send.
        public var flushInterval: TimeInterval
        /// Time in the background after which a return to the foreground records `app_open`.
        public var minimumBackgroundTimeForOpen: TimeInterval
        /// Refuses an event with any invalid optional field (not recorded, the field in the
        /// result's `warnings` and the log) instead of dropping the field with a warning and
        /// keeping the event. For debug builds and tests.
        public var strictValidation: Bool
        /// How long a first launch's `app_install` waits for the tracking prompt while the
        /// status is `notDetermined` (at most 600 s): answering it either way, or the wait
        /// running out, records the install with the state of that moment, so users who allow
        /// tracking are attributed by their IDFA. 0 records the install at once.
        public var waitForTrackingAuthorization: TimeInterval
        /// Sends hashed user data (email, phone, names, address, user id) even without tracking
        /// authorization. Off by default: Apple counts that as tracking. Only for an app with
        /// its own legal basis; see docs/privacy.md.
        public var userDataWithoutTracking: Bool
        /// Reads the tracking status and the IDFA at start and whenever the app becomes active,
        /// and applies them when they changed. Turn off only to report them yourself with
        /// ``Conversions/setTrackingAuthorization(_:advertisingIdentifier:)``.
        public var followsTrackingAuthorization: Bool
        /// Whether requests may use Low Data Mode networks (`URLSessionConfiguration`'s
        /// `allowsConstrainedNetworkAccess`; off: events wait for another network).
        public var allowsConstrainedNetworkAccess = true
        /// Whether requests may use expensive networks such as cellular or a personal hotspot.
        public var allowsExpensiveNetworkAccess = true
        /// The app's `URLSessionConfiguration` for the SDK's requests (proxy, TLS and header
        /// settings); `nil`: an ephemeral configuration.
        public var sessionConfiguration: URLSessionConfiguration?

        /// Creates a configuration; only the endpoint, ad account and token have no default.
        public init(
            endpoint: URL,
            adAccountId: String,
            token: String,
            endpointIsRelay: Bool? = nil,
            testMode: Bool = false,
            databaseURL: URL? = nil,
            logLevel: LogLevel = .warn,
            partnerName: String? = nil,
            flushInterval: TimeInterval = 30,
            minimumBackgroundTimeForOpen: TimeInterval = 30,
            strictValidation: Bool = false,
            waitForTrackingAuthorization: TimeInterval = 60,
            userDataWithoutTracking: Bool = false,
            followsTrackingAuthorization: Bool = true
        ) {
            self.endpoint = endpoint
            self.adAccountId = adAccountId
            self.token = token
            self.endpointIsRelay = endpointIsRelay
            self.testMode = testMode
            self.databaseURL = databaseURL
            self.logLevel = logLevel
            self.partnerName = partnerName
            self.flushInterval = flushInterval
            self.minimumBackgroundTimeForOpen = minimumBackgroundTimeForOpen
            self.strictValidation = strictValidation
            self.waitForTrackingAuthorization = waitForTrackingAuthorization
            self.userDataWithoutTracking = userDataWithoutTracking
            self.followsTrackingAuthorization = followsTrackingAuthorization
        }

        /// The core's configuration for an iOS app, with the buffer at `databaseURL`.
        func clientConfig(databaseURL: URL) -> ClientConfig {
            ClientConfig(
                endpoint: endpoint.absoluteString,
                adAccountId: adAccountId,
                token: token,
                databasePath: databaseURL.path,
                actionSource: .appIos,
                testMode: testMode,
                endpointIsRelay: endpointIsRelay,
                flushIntervalSecs: Self.seconds(flushInterval),
                minBackgroundForOpenSecs: Self.seconds(minimumBackgroundTimeForOpen),
                partnerName: partnerName,
                logLevel: logLevel,
                strictValidation: strictValidation,
                userDataWithoutTracking: userDataWithoutTracking,
                firstLaunchWaitForAuthorizationSecs: min(Self.seconds(waitForTrackingAuthorization), 600)
            )
        }

        /// Whole seconds of an interval, at most a year; negative or not finite counts as zero.
        private static func seconds(_ interval: TimeInterval) -> UInt64 {
            interval.isFinite && interval > 0 ? UInt64(min(interval, 31_536_000).rounded()) : 0
        }
    }
}
