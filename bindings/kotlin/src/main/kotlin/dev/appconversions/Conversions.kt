package dev.appconversions

import java.util.UUID
import java.util.logging.Logger
import kotlin.time.Duration
import kotlin.time.Duration.Companion.milliseconds
import kotlin.time.Duration.Companion.seconds
import kotlin.time.TimeSource
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import kotlinx.coroutines.withContext

/**
 * The Kotlin entry point of the conversion-tracking SDK: one instance per process and
 * database file, created once with [start] early in start-up (on Android,
 * `dev.appconversions.android.AndroidConversions.start` does it from `Application.onCreate`).
 *
 * Threading: recording calls ([track] and the helpers in `StandardEvents.kt`, the lifecycle
 * calls, the privacy and device setters) validate and hash on the caller's thread and return
 * at once; they are safe on the main thread. The SDK's own threads write the SQLite buffer and
 * send requests. Calls that wait ([flush], [forget], [clearDeadLetters], [diagnostics],
 * [shutdown]) are `suspend` functions that run on [Dispatchers.IO], so they never block the
 * caller's thread; each wait is bounded by its timeout. Every method may be called from any
 * number of threads and coroutines at once.
 *
 * Errors: [track] and the helpers in `StandardEvents.kt` never throw into the app. An event
 * the core refuses ([ConversionsException.InvalidInput], whose `field` names the field as in
 * the API's JSON, for example `custom_data.currency`, and whose `rule` says what was wrong) is
 * not recorded: the result says `recorded = false` and a `WARN` line names the field and the
 * rule. [trackOrThrow] throws instead. The other calls fail with [ConversionsException]: bad
 * device facts with `InvalidInput`, any call after [shutdown] with
 * [ConversionsException.ShutDown].
 *
 * Java: [start] and the helpers (class `StandardEvents`) have overloads for the optional
 * arguments; [clientConfig] builds the configuration. [flush] has a callback form (with or
 * without a timeout), and every waiting call a blocking form for worker threads
 * ([flushBlocking], [diagnosticsBlocking], [forgetBlocking], [clearDeadLettersBlocking],
 * [shutdownBlocking]). Counts are `Int` or `Long` (see [FlushReport], [Diagnostics]).
 *
 * Start-up: an instance from `AndroidConversions.start` builds its core in the background
 * (see [status]). Until then, recording calls are queued (at most 1,000) and replayed in order;
 * `track` returns the event id it assigned, and a validation error surfaces only in the log.
 * The waiting calls first wait, within their timeout, for the start to end. An
 * [ConversionsStatus.Inactive] instance does nothing and never throws.
 */
class Conversions private constructor(
    private val gate: ClientGate,
    privacy: PrivacyState,
    device: DeviceInfo,
    logLevel: LogLevel,
) : ConversionsApi {
    private val stateLock = Any()

    /** Runs the callback forms of the waiting calls. */
    private val callbacks = CoroutineScope(SupervisorJob() + Dispatchers.IO + CoroutineName("AppConversions-callback"))

    /** The app's log sink, which also hears the events [track] did not record. */
    @Volatile private var logSink: ((LogLevel, String) -> Unit)? = null

    /** The configured `ClientConfig.logLevel`: [track]'s own lines honour it too. */
    @Volatile private var logLevel: LogLevel = logLevel

    @Volatile private var currentPrivacy: PrivacyState = privacy

    @Volatile private var currentDevice: DeviceInfo = device

    /** The privacy state last applied (a copy: changing it changes nothing). */
    val privacy: PrivacyState get() = currentPrivacy.copy()

    /**
     * The device facts last applied (a copy: changing it changes nothing). Empty while the
     * start reads them in the background ([status] is [ConversionsStatus.Starting]).
     */
    val device: DeviceInfo get() = currentDevice.copy()

    /** Whether this instance records and sends: starting, running, or inactive and why. */
    val status: ConversionsStatus get() = gate.status

    /**
     * Records [event]: validates it, hashes its identifiers and queues it for delivery. Never
     * throws: an event the core refuses (bad input, or a call after [shutdown]) is not
     * recorded, and a `WARN` line to the log sink ([setLogSink]; `java.util.logging` when
     * none is set) names the event, the field and the rule it broke.
     *
     * @return the event id (yours or a generated UUID); `recorded` is false when nothing was
     *   recorded: collection is disabled, or the event was refused (its field and rule are in
     *   `warnings`, as in Swift, and in the log).
     */
    override fun track(event: Event): TrackResult {
        val withId = event.copy(eventId = event.eventId ?: UUID.randomUUID().toString())
        return try {
            trackOrThrow(withId)
        } catch (e: ConversionsException) {
            warn("${event.label()} ${withId.eventId} not recorded: ${e.reason()}")
            val refusal = (e as? ConversionsException.InvalidInput)?.let { ValidationWarning(it.field, it.rule) }
            TrackResult(eventId = withId.eventId.orEmpty(), recorded = false, warnings = listOfNotNull(refusal))
        }
    }

    /**
     * Records [event] as [track] does, but throws when the core refuses it: for tests, debug
     * builds and callers that handle the error themselves.
     *
     * @throws ConversionsException.InvalidInput naming the field and the rule it broke.
     * @throws ConversionsException.ShutDown after [shutdown].
     */
    fun trackOrThrow(event: Event): TrackResult {
        gate.client?.let { return it.track(event) }
        // Not started yet: fix the event id now, so the caller gets the one that will be sent.
        val queued = event.copy(eventId = event.eventId ?: UUID.randomUUID().toString())
        val accepted = gate.send { it.track(queued) }
        return TrackResult(eventId = queued.eventId.orEmpty(), recorded = accepted, warnings = emptyList())
    }

    /**
     * Reports a cold start. Records `app_install` on the first launch of an install (exactly
     * once, ever) and `app_open` on later launches; a second call in one process is ignored.
     * The Android adapter calls it; call it yourself only without the adapter.
     */
    fun onLaunch() = send { it.onLaunch() }

    /**
     * Reports a return to the foreground: records `app_open` after at least
     * `ClientConfig.minBackgroundForOpenSecs` in the background.
     */
    fun onForeground() = send { it.onForeground() }

    /**
     * Reports that the app went to the background. Only wakes the SDK's upload thread, which
     * then sends what waits; nothing is sent or written on the caller's thread.
     */
    fun onBackground() = send { it.onBackground() }

    /** Reports that connectivity returned: delivery retries at once instead of waiting out its backoff. */
    fun onNetworkAvailable() = send { it.onNetworkAvailable() }

    /**
     * Hands a URL that opened the app (an App Link, a custom scheme, the launch intent's data)
     * to the SDK: its Pinterest click id (`epik`, in the query or the fragment) is kept and sent
     * as `user_data.click_id` on later events for `ClientConfig.clickIdTtlSecs` (30 days). On
     * Android prefer `handleIntent(intent)`, which the adapter already calls for the launch.
     */
    fun handleOpenUrl(url: String) = send { it.handleOpenUrl(url) }

    /**
     * Reports what the Play Install Referrer said (`null`: it cannot be read). The Android
     * adapter calls it; call it yourself only when you read the referrer yourself.
     */
    fun setInstallReferrer(referrer: InstallReferrer?) = send { it.setInstallReferrer(referrer) }

    /**
     * Applies [privacy] as a whole. Opting out strips advertising ids from queued events before
     * they are sent; disabling collection purges the buffer.
     */
    override fun setPrivacy(privacy: PrivacyState) = updatePrivacy { privacy.copy() }

    /**
     * Sets Limit Ad Tracking (Android: Ads Personalization opt-out; iOS: ATT not authorized).
     * While on, events carry `opt_out: true` and never an advertising id.
     */
    override fun setLimitAdTracking(enabled: Boolean) = updatePrivacy { it.copy(optOut = enabled) }

    /**
     * Sets the raw advertising id (GAID or IDFA), or clears it with null. Only the SHA-256 of
     * the lowercased id is kept; the all-zero id, which the platform returns once the user
     * opted out, opts out (the core decides that, for every platform).
     */
    override fun setAdvertisingId(advertisingId: String?) =
        updatePrivacy { it.copy(advertisingId = advertisingId) }

    /**
     * Applies what the platform reports about advertising in one step: the id and the
     * limit-ad-tracking flag (on Android, `AdvertisingIdClient.Info.id` and
     * `isLimitAdTrackingEnabled`). A zeroed id, which the platform returns once the user opted
     * out, opts out too: the core applies that rule.
     */
    override fun setAdvertisingInfo(advertisingId: String?, limitAdTracking: Boolean) = updatePrivacy {
        it.copy(advertisingId = advertisingId, optOut = limitAdTracking)
    }

    /** Sets Limited Data Processing: events carry `custom_data.opt_out_type = "ldp"`. */
    override fun setLimitedDataProcessing(enabled: Boolean) =
        updatePrivacy { it.copy(limitedDataProcessing = enabled) }

    /**
     * Turns collection on or off (the user's consent). Off: nothing is recorded or sent and the
     * buffer is purged; `track` returns `recorded = false`. To also delete dead letters, call [forget].
     */
    override fun setCollectionEnabled(enabled: Boolean) =
        updatePrivacy { it.copy(collectionEnabled = enabled) }

    /**
     * Replaces the device facts snapshotted onto later events with what [change] returns, for
     * example `updateDevice { it.copy(wifi = true) }`.
     *
     * @throws ConversionsException.InvalidInput for a bad value (such as `device.language`).
     */
    fun updateDevice(change: (DeviceInfo) -> DeviceInfo) {
        gate.client?.let { return applyDevice(it, change) }
        // The facts are read in the background: apply the change to them once they are.
        send { applyDevice(it, change) }
    }

    /** Replaces the bearer token; resumes delivery if a rejected token had paused it. */
    fun setToken(token: String) = send { it.setToken(token) }

    /**
     * Hears the outcome of every request (events sent, status, processed, failed, retry), on
     * the SDK's upload thread; null removes it. Keep it short and thread-safe.
     */
    fun setDeliveryListener(listener: ((BatchOutcome) -> Unit)?) {
        val adapted = listener?.let { onBatch ->
            object : DeliveryListener {
                override fun onBatch(outcome: CoreBatchOutcome) = onBatch(outcome.toKotlin())
            }
        }
        send { it.setDeliveryListener(adapted) }
    }

    /**
     * Receives the SDK's log lines at or above `ClientConfig.logLevel`, on the SDK's threads;
     * null removes it. Tokens and identifiers never appear in them.
     */
    fun setLogSink(sink: ((level: LogLevel, message: String) -> Unit)?) {
        logSink = sink
        val adapted = sink?.let { log ->
            object : LogSink {
                override fun log(level: LogLevel, message: String) = log(level, message)
            }
        }
        send { it.setLogSink(adapted) }
    }

    /**
     * Sends everything due and reports what happened, waiting at most [timeout] on
     * [Dispatchers.IO]. Retries inside that time honour the backoff; when it passes first the
     * report says `timedOut` and delivery goes on in the background. Cancelling the calling
     * coroutine takes effect when the bounded wait ends.
     *
     * @throws ConversionsException.ShutDown after [shutdown].
     */
    override suspend fun flush(timeout: Duration): FlushReport =
        afterStart(timeout, otherwise = { FlushReport(0, 0, 0, 0, null, timedOut = it) }) { client, left ->
            client.flush(left.toMillis()).toKotlin()
        }

    /**
     * The callback form of [flush], for Java and other callers without coroutines: returns at
     * once, flushes on a background thread, waiting at most [timeoutMs] milliseconds (30 s
     * when left out), then calls [callback] on that thread with the report, or with the error
     * (after [shutdown]).
     */
    @JvmOverloads
    fun flush(timeoutMs: Long = DEFAULT_FLUSH_TIMEOUT_MS, callback: FlushCallback) {
        callbacks.launch {
            val outcome = try {
                Result.success(flush(timeoutMs.asTimeout()))
            } catch (e: ConversionsException) {
                Result.failure(e)
            }
            callback.onFlushed(outcome.getOrNull(), outcome.exceptionOrNull() as ConversionsException?)
        }
    }

    /**
     * Deletes every queued and dead-lettered event and identifier, waiting at most [timeout]
     * on [Dispatchers.IO]. The install record stays, so renewed consent records no second
     * `app_install`.
     *
     * @throws ConversionsException.Timeout when the buffer was not cleared in time.
     */
    suspend fun forget(timeout: Duration = 10.seconds) =
        afterStart(timeout, otherwise = { timedOut(it, timeout) }) { client, left -> client.forget(left.toMillis()) }

    /**
     * Deletes the dead letters (events the server refused), waiting at most [timeout] on
     * [Dispatchers.IO].
     *
     * @throws ConversionsException.Timeout when they were not deleted in time.
     */
    suspend fun clearDeadLetters(timeout: Duration = 10.seconds) =
        afterStart(timeout, otherwise = { timedOut(it, timeout) }) { client, left ->
            client.clearDeadLetters(left.toMillis())
        }

    /**
     * The SDK's health: queue, dead letters, drops by reason, last attempt, pause, storage.
     * Runs on [Dispatchers.IO] because it reads the buffer on the SDK's worker (at most about
     * two seconds; counts from the buffer read as zero if it does not answer in time).
     */
    suspend fun diagnostics(): Diagnostics =
        afterStart(DIAGNOSTICS_WAIT, otherwise = { idleDiagnostics(status) }) { client, _ -> client.diagnostics().toKotlin() }

    /**
     * Commits everything tracked, stops the SDK's threads and closes the database, waiting at
     * most [timeout] on [Dispatchers.IO]. Events not yet sent stay in the buffer for the next
     * start; later calls fail with [ConversionsException.ShutDown]. A second call does nothing.
     *
     * @throws ConversionsException.Timeout when the threads did not stop in time.
     */
    suspend fun shutdown(timeout: Duration = 5.seconds) =
        afterStart(timeout, otherwise = { timedOut(it, timeout) }) { client, left -> client.shutdown(left.toMillis()) }

    /**
     * [flush] for a thread that may wait, such as a WorkManager `Worker.doWork()` or an
     * executor's thread: blocks the calling thread for at most [timeoutMs] milliseconds (30 s
     * when left out). Never call it on the main thread; use the callback form there.
     *
     * @throws ConversionsException.ShutDown after [shutdown].
     */
    @JvmOverloads
    @Throws(ConversionsException::class)
    fun flushBlocking(timeoutMs: Long = DEFAULT_FLUSH_TIMEOUT_MS): FlushReport = blocking { flush(timeoutMs.asTimeout()) }

    /** [diagnostics] for a thread that may wait (at most about two seconds); not the main thread. */
    fun diagnosticsBlocking(): Diagnostics = blocking { diagnostics() }

    /**
     * [forget] for a thread that may wait at most [timeoutMs] milliseconds (10 s when left
     * out); not the main thread.
     *
     * @throws ConversionsException.Timeout when the buffer was not cleared in time.
     */
    @JvmOverloads
    @Throws(ConversionsException::class)
    fun forgetBlocking(timeoutMs: Long = 10_000) = blocking { forget(timeoutMs.asTimeout()) }

    /**
     * [clearDeadLetters] for a thread that may wait at most [timeoutMs] milliseconds (10 s
     * when left out); not the main thread.
     *
     * @throws ConversionsException.Timeout when they were not deleted in time.
     */
    @JvmOverloads
    @Throws(ConversionsException::class)
    fun clearDeadLettersBlocking(timeoutMs: Long = 10_000) = blocking { clearDeadLetters(timeoutMs.asTimeout()) }

    /**
     * [shutdown] for a thread that may wait at most [timeoutMs] milliseconds (5 s when left
     * out), such as the end of a desktop program's `main`.
     *
     * @throws ConversionsException.Timeout when the threads did not stop in time.
     */
    @JvmOverloads
    @Throws(ConversionsException::class)
    fun shutdownBlocking(timeoutMs: Long = 5_000) = blocking { shutdown(timeoutMs.asTimeout()) }

    /**
     * Makes [client], built in the background with the device facts [device], this instance's
     * core, then replays the calls that waited for it.
     */
    internal fun attach(client: ConversionsClientInterface, device: DeviceInfo, logLevel: LogLevel = this.logLevel) {
        this.logLevel = logLevel
        synchronized(stateLock) { currentDevice = device.copy() }
        gate.attach(client)
    }

    /** Ends a background start that failed: this instance does nothing from now on, for [reason]. */
    internal fun deactivate(reason: String) = gate.close(reason)

    private inline fun updatePrivacy(change: (PrivacyState) -> PrivacyState) {
        synchronized(stateLock) {
            val next = change(currentPrivacy.copy())
            currentPrivacy = next.copy()
            send { it.setPrivacy(next) }
        }
    }

    private fun applyDevice(client: ConversionsClientInterface, change: (DeviceInfo) -> DeviceInfo) =
        synchronized(stateLock) {
            val next = change(currentDevice.copy())
            client.updateDevice(next)
            currentDevice = next.copy()
        }

    private fun send(call: (ConversionsClientInterface) -> Unit) {
        gate.send(call)
    }

    /**
     * Runs [call] on [Dispatchers.IO] once the core is running, with what is left of [timeout];
     * returns [otherwise] (given whether the wait timed out) when the start did not end in
     * time or the instance is inactive.
     */
    private suspend fun <T> afterStart(
        timeout: Duration,
        otherwise: (timedOut: Boolean) -> T,
        call: (ConversionsClientInterface, Duration) -> T,
    ): T = withContext(Dispatchers.IO) {
        val began = TimeSource.Monotonic.markNow()
        val settled = gate.awaitSettled(timeout)
        val client = gate.client
        if (client == null) otherwise(!settled) else call(client, (timeout - began.elapsedNow()).coerceAtLeast(Duration.ZERO))
    }

    private fun timedOut(timedOut: Boolean, timeout: Duration) {
        if (timedOut) throw ConversionsException.Timeout(timeout.toMillis())
    }

    /** Logs [message] at `WARN` to the app's sink, or to `java.util.logging` without one. */
    private fun warn(message: String) {
        if (logLevel.ordinal < LogLevel.WARN.ordinal) return
        val sink = logSink
        if (sink != null) sink(LogLevel.WARN, message) else Logger.getLogger(LOGGER).warning(message)
    }

    private fun Event.label(): String =
        if (name == EventName.CUSTOM) "custom event ${customEventName.orEmpty()}" else "event ${name.name.lowercase()}"

    private fun ConversionsException.reason(): String = when (this) {
        is ConversionsException.InvalidInput -> "invalid $field ($rule)"
        else -> message?.takeIf { it.isNotBlank() } ?: javaClass.simpleName
    }

    private fun Duration.toMillis(): ULong = inWholeMilliseconds.coerceAtLeast(0).toULong()

    private fun Long.asTimeout(): Duration = coerceAtLeast(0).milliseconds

    /** Runs a waiting call on the calling thread; the call itself runs on [Dispatchers.IO]. */
    private fun <T> blocking(call: suspend () -> T): T = runBlocking { call() }

    /** Creates the SDK. */
    companion object {
        /** The timeout of the Java forms of [flush] when none is given. */
        private const val DEFAULT_FLUSH_TIMEOUT_MS = 30_000L

        /** How long [diagnostics] waits for a background start. */
        private val DIAGNOSTICS_WAIT = 2.seconds

        /** The `java.util.logging` logger [track] writes to when no log sink is set. */
        private const val LOGGER = "dev.appconversions"

        /**
         * An instance whose core is built later, in the background: at most [capacity] calls
         * are queued until [attach] replays them, or dropped after [deactivate]. [log] hears
         * what the instance does meanwhile (the core's log sink is not there yet).
         */
        internal fun starting(capacity: Int, privacy: PrivacyState, log: (String) -> Unit) =
            Conversions(ClientGate.starting(capacity, log), privacy.copy(), DeviceInfo(), LogLevel.WARN)

        /** An instance that does nothing, for [reason]; [log] hears about ignored calls. */
        internal fun inactive(reason: String, log: (String) -> Unit) =
            Conversions(ClientGate.inactive(reason, log), PrivacyState(), DeviceInfo(), LogLevel.WARN)

        /**
         * A recording double for an app's unit tests: no native library, no threads, no disk.
         * Pass it where the app takes a [ConversionsApi]; see [RecordingConversions].
         */
        @JvmStatic
        fun forUnitTests(): RecordingConversions = RecordingConversions()

        /** Diagnostics of an instance without a running core: zeros, and why in `pausedReason`. */
        internal fun idleDiagnostics(status: ConversionsStatus) = Diagnostics.idle(
            when (status) {
                is ConversionsStatus.Inactive -> status.reason
                else -> "the SDK is still starting"
            },
        )

        /**
         * Starts the SDK. Returns at once: the database is opened on the SDK's worker thread,
         * and events tracked before that are queued, not lost. Call it once per process and
         * database file; keep the instance for the life of the process.
         *
         * @param config endpoint, ad account, token, database path, action source and tuning.
         * @param app facts about the app (id, name, version, first install time).
         * @param device facts about the device; change them later with [updateDevice].
         * @param privacy the user's privacy choices at start; change them later with the setters.
         * @param transport what carries the requests: the platform's `HttpURLConnection` by
         *   default (system proxy, Network Security Config, user CAs); pass an adapter around
         *   the app's own `OkHttpClient` to share its pinning and interceptors.
         * @throws ConversionsException.InvalidConfig naming the configuration field.
         * @throws ConversionsException.InvalidInput naming a bad device field.
         * @throws ConversionsException.DatabaseInUse when another instance, in this process or
         *   another, already uses `config.databasePath` (the core locks a file beside it).
         */
        @JvmStatic
        @JvmOverloads
        @Throws(ConversionsException::class)
        fun start(
            config: ClientConfig,
            app: AppInfo = AppInfo(),
            device: DeviceInfo = DeviceInfo(),
            privacy: PrivacyState = PrivacyState(),
            transport: HttpTransport = HttpUrlConnectionTransport(),
        ): Conversions = Conversions(
            ClientGate.running(ConversionsClient.withTransport(config, app, device, privacy, transport)),
            privacy.copy(),
            device.copy(),
            config.logLevel ?: LogLevel.WARN,
        )

        /**
         * A [ClientConfig] with the defaults of every tuning field, for Java callers (its
         * constructor takes unsigned numbers, which Java cannot pass). Change the rest with its
         * setters, for example `setTestMode(true)`.
         *
         * @param endpoint your relay's base URL (recommended), or the Conversions API's.
         * @param adAccountId the ad account id, digits only.
         * @param token the bearer token for [endpoint].
         * @param databasePath the SQLite buffer's file; one client per file.
         * @param actionSource where events happen (`APP_ANDROID`, `APP_IOS`, ...).
         * @param logLevel the lowest level of the lines the log sink hears.
         */
        @JvmStatic
        @JvmOverloads
        fun clientConfig(
            endpoint: String,
            adAccountId: String,
            token: String,
            databasePath: String,
            actionSource: ActionSource,
            logLevel: LogLevel = LogLevel.WARN,
        ): ClientConfig = ClientConfig(
            endpoint = endpoint,
            adAccountId = adAccountId,
            token = token,
            databasePath = databasePath,
            actionSource = actionSource,
            logLevel = logLevel,
        )
    }
}
