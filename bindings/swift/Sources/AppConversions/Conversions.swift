// The Swift entry point. `Conversions` owns the generated `ConversionsClient`, remembers the
// privacy state and device facts it last applied (so a setter can change one field), and runs
// every call that waits on a background queue, so `await` never blocks the caller's thread.
import Foundation

/// The conversion-tracking SDK: records app installs, opens and standard Conversions API
/// events, buffers them on disk and delivers them in batches.
///
/// Create one per process, early in start-up: ``start(_:privacy:)`` on iOS, which also follows
/// the app's lifecycle and network and logs to the unified log, or
/// ``init(configuration:app:device:privacy:)`` to wire everything yourself.
///
/// Threading: recording calls (``track(_:)`` and the typed helpers such as
/// ``checkout(value:currency:orderId:contents:user:eventId:)``, the lifecycle calls, the privacy
/// and device setters) validate and hash on the calling thread and return at once, without disk
/// or network I/O, so they are safe on the main thread. Calls that wait (``flush(timeout:)``,
/// ``forget(timeout:)``, ``clearDeadLetters(timeout:)``, ``diagnostics()``,
/// ``shutdown(timeout:)``) are `async` and wait on a background queue, never the main thread;
/// each wait is bounded by its timeout. Every method may be called from any thread.
///
/// Errors: ``track(_:)`` and the typed helpers never throw into the app. An event the core
/// refuses (``AppConversionsError/invalidInput(field:rule:)``, whose ``AppConversionsError/field``
/// names the field as in the API's JSON, for example `custom_data.currency`, or a call after
/// ``shutdown(timeout:)``) is not recorded: the result says `recorded == false`, its `warnings`
/// name the field and the rule, and a warning line goes to the log sink. ``trackOrThrow(_:)``
/// throws instead. The other calls throw ``AppConversionsError``: bad device facts
/// `InvalidInput`, any call after ``shutdown(timeout:)`` ``AppConversionsError/shutDown``.
public final class Conversions: @unchecked Sendable {
    /// The generated client underneath, for anything this wrapper does not cover.
    public let client: ConversionsClient

    private let lock = NSLock()
    private var currentPrivacy: PrivacyState
    private var currentDevice: DeviceInfo
    private var attachments: [AnyObject] = []
    /// The app's log sink, which also hears the events ``track(_:)`` did not record.
    private var logSink: (@Sendable (LogLevel, String) -> Void)?
    /// The configured ``Configuration/logLevel``: the lines ``track(_:)`` writes honour it too.
    private let logLevel: LogLevel

    private static let sharedLock = NSLock()
    private static var sharedInstance: Conversions?

    /// Starts the SDK without any platform wiring: you report lifecycle, network and privacy
    /// changes yourself. Returns at once; the database is opened on the SDK's own thread and
    /// events tracked before that are queued, not lost.
    ///
    /// - Parameters:
    ///   - configuration: endpoint, ad account, token and behaviours.
    ///   - app: facts about the app; ``AppInfo/current`` reads them from the main bundle.
    ///   - device: facts about the device; ``DeviceInfo/current(wifi:)`` reads them on iOS.
    ///   - privacy: the user's choices at start; change them later with the privacy setters.
    ///   - transport: what carries the requests; `nil` (the default): a ``URLSessionTransport``
    ///     built from the configuration's session settings.
    /// - Throws: ``AppConversionsError/invalidConfig(field:rule:)`` naming the configuration field,
    ///   ``AppConversionsError/invalidInput(field:rule:)`` naming a bad device field, or
    ///   ``AppConversionsError/databaseInUse(path:)`` when another instance uses the same database.
    public init(
        configuration: Configuration,
        app: AppInfo,
        device: DeviceInfo,
        privacy: PrivacyState,
        transport: HttpTransport? = nil
    ) throws {
        let databaseURL = configuration.databaseURL ?? StorageLocation.defaultDatabaseURL()
        let transport = transport ?? URLSessionTransport(
            configuration: configuration.sessionConfiguration ?? .ephemeral,
            allowsConstrainedNetworkAccess: configuration.allowsConstrainedNetworkAccess,
            allowsExpensiveNetworkAccess: configuration.allowsExpensiveNetworkAccess
        )
        client = try translatingCoreErrors {
            try ConversionsClient.withTransport(
                config: configuration.clientConfig(databaseURL: databaseURL),
                app: app,
                device: device,
                privacy: privacy,
                transport: transport
            )
        }
        currentPrivacy = privacy
        currentDevice = device
        logLevel = configuration.logLevel
        StorageLocation.excludeFromBackup(folderOf: databaseURL)
    }

    /// The instance ``start(_:privacy:)`` created, or `nil` before it.
    public static var shared: Conversions? {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        return sharedInstance
    }

    /// Starts the SDK for this app, once per process, from `application(_:didFinishLaunchingWithOptions:)`
    /// or your `App`'s `init()`.
    ///
    /// App and device facts are read from the main bundle and the device (the carrier on a
    /// background queue, so events recorded before it is read, such as the launch, may lack it;
    /// since iOS 16 the OS names no carrier anyway), the buffer lives in
    /// Application Support (excluded from backups), log lines go to the unified log, and network
    /// changes update the `wifi` fact and retry delivery when connectivity returns. On iOS the
    /// launch is recorded, and UIKit's notifications drive foreground, background (with a
    /// bounded flush inside a background task) from then on.
    ///
    /// - Parameters:
    ///   - configuration: endpoint, ad account, token and behaviours.
    ///   - privacy: the user's choices at start; `nil` (the default) reads the tracking status
    ///     and the IDFA from the OS (unless ``Configuration/followsTrackingAuthorization`` is
    ///     false), with every other choice at its default.
    /// - Returns: the instance, also available as ``shared``.
    /// - Throws: as ``init(configuration:app:device:privacy:)``, and
    ///   ``AppConversionsError/invalidConfig(field:rule:)`` when called a second time.
    @MainActor
    @discardableResult
    public static func start(_ configuration: Configuration, privacy: PrivacyState? = nil) throws -> Conversions {
        sharedLock.lock()
        defer { sharedLock.unlock() }
        if sharedInstance != nil {
            throw AppConversionsError.invalidConfig(
                field: "Conversions.start",
                rule: "call it once per process, then use Conversions.shared"
            )
        }
        // The main thread does no slow platform work: the carrier (CoreTelephony) is read on a
        // background queue, the buffer's folder is created and excluded from backups there too,
        // and the database opens on the SDK's own thread.
        let conversions = try Conversions(
            configuration: configuration,
            app: .current,
            device: .current(wifi: nil, carrier: nil),
            privacy: privacy ?? Conversions.privacyAtStart(followsTrackingAuthorization: configuration.followsTrackingAuthorization)
        )
        conversions.setLogSink { level, message in UnifiedLog.write(level, message) }
        conversions.readCarrierInBackground()
        conversions.startNetworkMonitoring()
        #if canImport(UIKit)
        conversions.keepAlive(LifecycleObserver(
            conversions: conversions,
            followsTrackingAuthorization: configuration.followsTrackingAuthorization
        ))
        #endif
        sharedInstance = conversions
        return conversions
    }

    /// Records `event`: validates it, hashes its identifiers and queues it for delivery. Never
    /// throws: an event the core refuses (bad input, or a call after ``shutdown(timeout:)``) is
    /// not recorded, and a warning line to the log sink (``setLogSink(_:)``; the unified log
    /// when none is set) names the event, its id, the field and the rule it broke.
    ///
    /// - Returns: the event id (yours or a generated UUID, also when the event was refused).
    ///   `recorded` is false when nothing was recorded: collection is disabled, or the event
    ///   was refused, and then `warnings` holds the field and the rule. An event kept without
    ///   an invalid optional field is recorded, with that field in `warnings`.
    @discardableResult
    public func track(_ event: Event) -> TrackResult {
        var withId = event
        // Fixed here, so that a refused event still reports the id it would have had.
        let eventId = event.eventId ?? UUID().uuidString.lowercased()
        withId.eventId = eventId
        do {
            return try trackOrThrow(withId)
        } catch {
            let refusal = error as? AppConversionsError
            let reason = refusal.map { $0.description } ?? "\(error)"
            warn("\(Conversions.label(event)) \(eventId) not recorded: \(reason)")
            let warning = ValidationWarning(field: refusal?.field ?? "event", rule: refusal?.rule ?? reason)
            return TrackResult(eventId: eventId, recorded: false, warnings: [warning])
        }
    }

    /// Records `event` as ``track(_:)`` does, but throws when the core refuses it: for tests,
    /// debug builds and callers that handle the error themselves.
    ///
    /// - Returns: the event id (yours or a generated UUID); `recorded` is false when collection
    ///   is disabled and nothing was recorded.
    /// - Throws: ``AppConversionsError/invalidInput(field:rule:)`` naming the field and the rule it
    ///   broke, ``AppConversionsError/shutDown`` after ``shutdown(timeout:)``.
    @discardableResult
    public func trackOrThrow(_ event: Event) throws -> TrackResult {
        try translatingCoreErrors { try client.track(event: event) }
    }

    /// Reports a cold start: records `app_install` on the first launch of an install (exactly
    /// once, ever) and `app_open` on later launches. A second call in one process is ignored.
    /// ``start(_:privacy:)`` calls it on iOS.
    public func onLaunch() {
        reporting("onLaunch") { try client.onLaunch() }
    }

    /// Reports a return to the foreground: records `app_open` after at least
    /// ``Configuration/minimumBackgroundTimeForOpen`` in the background.
    public func onForeground() {
        reporting("onForeground") { try client.onForeground() }
    }

    /// Reports that the app went to the background: the SDK's upload thread sends what waits.
    /// Nothing is sent or written on the calling thread.
    public func onBackground() {
        reporting("onBackground") { try client.onBackground() }
    }

    /// Reports that connectivity returned: delivery retries at once instead of waiting out its backoff.
    public func onNetworkAvailable() {
        reporting("onNetworkAvailable") { try client.onNetworkAvailable() }
    }

    /// The device facts last applied (a copy: changing it changes nothing).
    public var device: DeviceInfo {
        lock.lock()
        defer { lock.unlock() }
        return currentDevice
    }

    /// Replaces the device facts snapshotted onto later events with a changed copy, for
    /// example `try conversions.updateDevice { $0.carrier = "Carrier" }`.
    ///
    /// - Throws: ``AppConversionsError/invalidInput(field:rule:)`` for a bad value such as `device.language`.
    public func updateDevice(_ change: (inout DeviceInfo) -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        var next = currentDevice
        change(&next)
        try translatingCoreErrors { try client.updateDevice(device: next) }
        currentDevice = next
    }

    /// Replaces the bearer token; resumes delivery if a rejected token had paused it.
    public func setToken(_ token: String) throws {
        try translatingCoreErrors { try client.setToken(token: token) }
    }

    /// Hears the outcome of every request (events sent, status, processed, failed, retry) on
    /// the SDK's upload thread; `nil` removes it. Keep it short and thread-safe.
    public func setDeliveryListener(_ listener: (@Sendable (BatchOutcome) -> Void)?) {
        client.setDeliveryListener(listener: listener.map { DeliveryListenerAdapter(onBatch: $0) })
    }

    /// Receives the SDK's log lines at or above ``Configuration/logLevel`` on the SDK's
    /// threads; `nil` removes it. Tokens and identifiers never appear in them.
    public func setLogSink(_ sink: (@Sendable (LogLevel, String) -> Void)?) {
        lock.lock()
        logSink = sink
        lock.unlock()
        client.setLogSink(sink: sink.map { LogSinkAdapter(write: $0) })
    }

    /// Sends everything due and reports what happened, waiting at most `timeout` seconds on a
    /// background queue. Retries inside that time honour the backoff; when the timeout passes
    /// first the report says `timedOut` and delivery goes on in the background.
    ///
    /// - Throws: ``AppConversionsError/shutDown`` after ``shutdown(timeout:)``.
    public func flush(timeout: TimeInterval = 30) async throws -> FlushReport {
        let client = self.client
        return try await Blocking.run { try translatingCoreErrors { try client.flush(timeoutMs: Blocking.milliseconds(timeout)) } }
    }

    /// Deletes every queued and dead-lettered event and identifier, waiting at most `timeout`
    /// seconds on a background queue. The install record stays, so renewed consent records no
    /// second `app_install`.
    ///
    /// - Throws: ``AppConversionsError/timeout(millis:)`` when the buffer was not cleared in time.
    public func forget(timeout: TimeInterval = 10) async throws {
        let client = self.client
        try await Blocking.run { try translatingCoreErrors { try client.forget(timeoutMs: Blocking.milliseconds(timeout)) } }
    }

    /// Deletes the dead letters (events the server refused), waiting at most `timeout` seconds.
    ///
    /// - Throws: ``AppConversionsError/timeout(millis:)`` when they were not deleted in time.
    public func clearDeadLetters(timeout: TimeInterval = 10) async throws {
        let client = self.client
        try await Blocking.run { try translatingCoreErrors { try client.clearDeadLetters(timeoutMs: Blocking.milliseconds(timeout)) } }
    }

    /// The SDK's health: queue, dead letters, drops by reason, last attempt, pause, storage.
    /// Reads the buffer on the SDK's worker, on a background queue (at most about two seconds;
    /// counts from the buffer read as zero if it does not answer in time).
    public func diagnostics() async -> Diagnostics {
        let client = self.client
        return await Blocking.value { client.diagnostics() }
    }

    /// Commits everything tracked, stops the SDK's threads and closes the database, waiting at
    /// most `timeout` seconds. Events not yet sent stay in the buffer for the next start; later
    /// calls throw ``AppConversionsError/shutDown``. A second call does nothing.
    ///
    /// - Throws: ``AppConversionsError/timeout(millis:)`` when the threads did not stop in time.
    public func shutdown(timeout: TimeInterval = 5) async throws {
        let client = self.client
        try await Blocking.run { try translatingCoreErrors { try client.shutdown(timeoutMs: Blocking.milliseconds(timeout)) } }
    }

    /// Applies a changed copy of the privacy state, under the lock that orders all changes. A
    /// change the core refuses (after ``shutdown(timeout:)``) is logged, not thrown.
    func updatePrivacy(_ change: (inout PrivacyState) -> Void) {
        lock.lock()
        var next = currentPrivacy
        change(&next)
        do {
            try client.setPrivacy(privacy: next)
            currentPrivacy = next
            lock.unlock()
        } catch {
            lock.unlock()
            warn("privacy change not applied: \(Self.reason(error))")
        }
    }

    /// Runs a lifecycle call of the core; an error (after ``shutdown(timeout:)``) is logged.
    private func reporting(_ call: String, _ body: () throws -> Void) {
        do {
            try body()
        } catch {
            warn("\(call) ignored: \(Self.reason(error))")
        }
    }

    /// The readable reason of an error from the core.
    private static func reason(_ error: Error) -> String {
        (error as? ConversionsError).map { AppConversionsError($0).description } ?? "\(error)"
    }

    /// The privacy state last applied (a copy: changing it changes nothing).
    public var privacy: PrivacyState {
        lock.lock()
        defer { lock.unlock() }
        return currentPrivacy
    }

    /// Writes a warning of the wrapper's own to the log sink, or to the unified log when none
    /// is set, unless ``Configuration/logLevel`` is below warnings.
    private func warn(_ message: String) {
        switch logLevel {
        case .off, .error:
            return
        case .warn, .info, .debug:
            break
        }
        lock.lock()
        let sink = logSink
        lock.unlock()
        if let sink {
            sink(.warn, message)
        } else {
            UnifiedLog.write(.warn, message)
        }
    }

    /// How a log line names an event: `event lead`, or `custom event TookSurvey`.
    private static func label(_ event: Event) -> String {
        if event.name == .custom {
            return "custom event \(event.customEventName ?? "")"
        }
        return "event \(event.name)"
    }

    /// The privacy state `start` uses when given none: the OS's tracking status and IDFA where
    /// App Tracking Transparency exists and is followed, else the defaults.
    static func privacyAtStart(followsTrackingAuthorization: Bool) -> PrivacyState {
        #if canImport(AppTrackingTransparency)
        if followsTrackingAuthorization {
            return TrackingFacts.current().privacyState
        }
        #endif
        return PrivacyState()
    }

    /// Keeps a platform observer alive as long as this instance.
    func keepAlive(_ attachment: AnyObject) {
        lock.lock()
        defer { lock.unlock() }
        attachments.append(attachment)
    }
}
