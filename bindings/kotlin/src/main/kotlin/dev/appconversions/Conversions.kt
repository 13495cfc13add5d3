package dev.appconversions

import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.Dispatchers
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
 * Errors: bad input fails with [ConversionsException.InvalidInput], whose `field` names the
 * field as in the API's JSON (for example `custom_data.currency`) and whose `rule` says what
 * was wrong; nothing is recorded then. After [shutdown], calls fail with
 * [ConversionsException.ShutDown].
 */
class Conversions private constructor(
    private val client: ConversionsClient,
    privacy: PrivacyState,
    device: DeviceInfo,
) {
    private val stateLock = Any()

    @Volatile private var currentPrivacy: PrivacyState = privacy

    @Volatile private var currentDevice: DeviceInfo = device

    /** The privacy state last applied (a copy: changing it changes nothing). */
    val privacy: PrivacyState get() = currentPrivacy.copy()

    /** The device facts last applied (a copy: changing it changes nothing). */
    val device: DeviceInfo get() = currentDevice.copy()

    /**
     * Records [event]: validates it, hashes its identifiers and queues it for delivery.
     *
     * @return the event id (yours or a generated UUID); `recorded` is false when collection
     *   is disabled and nothing was recorded.
     * @throws ConversionsException.InvalidInput naming the field and the rule it broke.
     * @throws ConversionsException.ShutDown after [shutdown].
     */
    fun track(event: Event): TrackResult = client.track(event)

    /**
     * Reports a cold start. Records `app_install` on the first launch of an install (exactly
     * once, ever) and `app_open` on later launches; a second call in one process is ignored.
     * The Android adapter calls it; call it yourself only without the adapter.
     */
    fun onLaunch() = client.onLaunch()

    /**
     * Reports a return to the foreground: records `app_open` after at least
     * `ClientConfig.minBackgroundForOpenSecs` in the background.
     */
    fun onForeground() = client.onForeground()

    /**
     * Reports that the app went to the background. Only wakes the SDK's upload thread, which
     * then sends what waits; nothing is sent or written on the caller's thread.
     */
    fun onBackground() = client.onBackground()

    /** Reports that connectivity returned: delivery retries at once instead of waiting out its backoff. */
    fun onNetworkAvailable() = client.onNetworkAvailable()

    /**
     * Applies [privacy] as a whole. Opting out strips advertising ids from queued events before
     * they are sent; disabling collection purges the buffer.
     */
    fun setPrivacy(privacy: PrivacyState) = updatePrivacy { privacy.copy() }

    /**
     * Sets Limit Ad Tracking (Android: Ads Personalization opt-out; iOS: ATT not authorized).
     * While on, events carry `opt_out: true` and never an advertising id.
     */
    fun setLimitAdTracking(enabled: Boolean) = updatePrivacy { it.copy(optOut = enabled) }

    /**
     * Sets the raw advertising id (GAID or IDFA), or clears it with null. Only the SHA-256 of
     * the lowercased id is kept; the all-zero id counts as no id. Prefer [setAdvertisingInfo],
     * which also applies the opt-out that a zeroed id means.
     */
    fun setAdvertisingId(advertisingId: String?) =
        updatePrivacy { it.copy(advertisingId = advertisingId) }

    /**
     * Applies what the platform reports about advertising in one step: the id and the
     * limit-ad-tracking flag (on Android, `AdvertisingIdClient.Info.id` and
     * `isLimitAdTrackingEnabled`). A zeroed id, which the platform returns once the user opted
     * out, counts as limit-ad-tracking too.
     */
    fun setAdvertisingInfo(advertisingId: String?, limitAdTracking: Boolean) = updatePrivacy {
        it.copy(
            advertisingId = advertisingId,
            optOut = limitAdTracking || isZeroedAdvertisingId(advertisingId),
        )
    }

    /** Sets Limited Data Processing: events carry `custom_data.opt_out_type = "ldp"`. */
    fun setLimitedDataProcessing(enabled: Boolean) =
        updatePrivacy { it.copy(limitedDataProcessing = enabled) }

    /**
     * Turns collection on or off (the user's consent). Off: nothing is recorded or sent and the
     * buffer is purged; `track` returns `recorded = false`. To also delete dead letters, call [forget].
     */
    fun setCollectionEnabled(enabled: Boolean) =
        updatePrivacy { it.copy(collectionEnabled = enabled) }

    /**
     * Replaces the device facts snapshotted onto later events with what [change] returns, for
     * example `updateDevice { it.copy(wifi = true) }`.
     *
     * @throws ConversionsException.InvalidInput for a bad value (such as `device.language`).
     */
    fun updateDevice(change: (DeviceInfo) -> DeviceInfo) = synchronized(stateLock) {
        val next = change(currentDevice.copy())
        client.updateDevice(next)
        currentDevice = next.copy()
    }

    /** Replaces the bearer token; resumes delivery if a rejected token had paused it. */
    fun setToken(token: String) = client.setToken(token)

    /**
     * Hears the outcome of every request (events sent, status, processed, failed, retry), on
     * the SDK's upload thread; null removes it. Keep it short and thread-safe.
     */
    fun setDeliveryListener(listener: ((BatchOutcome) -> Unit)?) {
        client.setDeliveryListener(listener?.let { onBatch ->
            object : DeliveryListener {
                override fun onBatch(outcome: BatchOutcome) = onBatch(outcome)
            }
        })
    }

    /**
     * Receives the SDK's log lines at or above `ClientConfig.logLevel`, on the SDK's threads;
     * null removes it. Tokens and identifiers never appear in them.
     */
    fun setLogSink(sink: ((level: LogLevel, message: String) -> Unit)?) {
        client.setLogSink(sink?.let { log ->
            object : LogSink {
                override fun log(level: LogLevel, message: String) = log(level, message)
            }
        })
    }

    /**
     * Sends everything due and reports what happened, waiting at most [timeout] on
     * [Dispatchers.IO]. Retries inside that time honour the backoff; when it passes first the
     * report says `timedOut` and delivery goes on in the background. Cancelling the calling
     * coroutine takes effect when the bounded wait ends.
     *
     * @throws ConversionsException.ShutDown after [shutdown].
     */
    suspend fun flush(timeout: Duration = 30.seconds): FlushReport =
        blocking { client.flush(timeout.toMillis()) }

    /**
     * Deletes every queued and dead-lettered event and identifier, waiting at most [timeout]
     * on [Dispatchers.IO]. The install record stays, so renewed consent records no second
     * `app_install`.
     *
     * @throws ConversionsException.Timeout when the buffer was not cleared in time.
     */
    suspend fun forget(timeout: Duration = 10.seconds) = blocking { client.forget(timeout.toMillis()) }

    /**
     * Deletes the dead letters (events the server refused), waiting at most [timeout] on
     * [Dispatchers.IO].
     *
     * @throws ConversionsException.Timeout when they were not deleted in time.
     */
    suspend fun clearDeadLetters(timeout: Duration = 10.seconds) =
        blocking { client.clearDeadLetters(timeout.toMillis()) }

    /**
     * The SDK's health: queue, dead letters, drops by reason, last attempt, pause, storage.
     * Runs on [Dispatchers.IO] because it reads the buffer on the SDK's worker (at most about
     * two seconds; counts from the buffer read as zero if it does not answer in time).
     */
    suspend fun diagnostics(): Diagnostics = blocking { client.diagnostics() }

    /**
     * Commits everything tracked, stops the SDK's threads and closes the database, waiting at
     * most [timeout] on [Dispatchers.IO]. Events not yet sent stay in the buffer for the next
     * start; later calls fail with [ConversionsException.ShutDown]. A second call does nothing.
     *
     * @throws ConversionsException.Timeout when the threads did not stop in time.
     */
    suspend fun shutdown(timeout: Duration = 5.seconds) = blocking { client.shutdown(timeout.toMillis()) }

    private inline fun updatePrivacy(change: (PrivacyState) -> PrivacyState) = synchronized(stateLock) {
        val next = change(currentPrivacy.copy())
        client.setPrivacy(next)
        currentPrivacy = next.copy()
    }

    private suspend fun <T> blocking(call: () -> T): T = withContext(Dispatchers.IO) { call() }

    private fun Duration.toMillis(): ULong = inWholeMilliseconds.coerceAtLeast(0).toULong()

    /** Creates the SDK. */
    companion object {
        /**
         * Starts the SDK. Returns at once: the database is opened on the SDK's worker thread,
         * and events tracked before that are queued, not lost. Call it once per process and
         * database file; keep the instance for the life of the process.
         *
         * @param config endpoint, ad account, token, database path, action source and tuning.
         * @param app facts about the app (id, name, version, first install time).
         * @param device facts about the device; change them later with [updateDevice].
         * @param privacy the user's privacy choices at start; change them later with the setters.
         * @throws ConversionsException.InvalidConfig naming the configuration field.
         * @throws ConversionsException.InvalidInput naming a bad device field.
         * @throws ConversionsException.DatabaseInUse when another instance in this process
         *   already uses `config.databasePath`.
         */
        fun start(
            config: ClientConfig,
            app: AppInfo = AppInfo(),
            device: DeviceInfo = DeviceInfo(),
            privacy: PrivacyState = PrivacyState(),
        ): Conversions = Conversions(
            ConversionsClient(config, app, device, privacy),
            privacy.copy(),
            device.copy(),
        )
    }
}
