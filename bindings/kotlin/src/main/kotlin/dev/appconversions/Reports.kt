package dev.appconversions

/*
 * The SDK's reports with Kotlin's own number types. The core reports counts as unsigned
 * numbers (the generated `CoreFlushReport`, `CoreDiagnostics`, `CoreBatchOutcome` and
 * `CoreFieldCount`, whose `ULong`/`UInt` fields Java cannot read and Kotlin compares only with
 * `1uL`); the Kotlin layer hands out these copies instead. Counts bounded by the SDK's limits
 * (a flush, a request, the buffer, the dead letters) are `Int`; counters that grow for the life
 * of an install are `Long`, as are seconds and Unix times; an HTTP status is an `Int`. A value
 * too large for its type reads as the type's largest value: it saturates, it never wraps to a
 * negative number.
 */

/**
 * What a [Conversions.flush] achieved.
 *
 * @property sent events sent in requests during the flush (retries counted again).
 * @property processed events the server reported processed.
 * @property failed events the server refused (now dead letters).
 * @property remaining events still queued when the flush returned.
 * @property lastStatus the HTTP status of the last request, if one was made.
 * @property timedOut true when the timeout passed before the flush finished; delivery goes on
 *   in the background.
 */
data class FlushReport(
    val sent: Int,
    val processed: Int,
    val failed: Int,
    val remaining: Int,
    val lastStatus: Int?,
    val timedOut: Boolean,
)

/**
 * One request's outcome, for the delivery listener ([Conversions.setDeliveryListener]).
 *
 * @property events events in the request.
 * @property status the HTTP status, null for a network error.
 * @property processed events processed.
 * @property failed events refused (dead-lettered).
 * @property warnings processed events that carried a warning.
 * @property willRetry true when the events stay queued for a later retry.
 * @property message a short redacted description of an error, if any.
 * @property results each event of the request, in the order sent.
 */
data class BatchOutcome(
    val events: Int,
    val status: Int?,
    val processed: Int,
    val failed: Int,
    val warnings: Int,
    val willRetry: Boolean,
    val message: String?,
    val results: List<EventOutcome>,
)

/**
 * Invalid optional values dropped from events since start, for one field.
 *
 * @property field the field, as named in the API's JSON (`custom_data.contents.item_price`).
 * @property count values dropped.
 */
data class FieldCount(val field: String, val count: Long)

/**
 * The SDK's health, for support screens and tests ([Conversions.diagnostics]).
 *
 * @property queued events waiting to be sent.
 * @property oldestQueuedAgeSecs age of the oldest waiting event, in seconds.
 * @property deadLettered dead letters kept (at most 1,000).
 * @property recentDeadLetters the newest dead letters, newest first (at most 20).
 * @property delivered events the server reported processed, ever.
 * @property warnings warnings the server attached to processed events.
 * @property sentLate events processed more than an hour after they happened (the API counts
 *   them as offline conversions).
 * @property resentAfterDedupWindow events processed more than 48 hours after a request
 *   carrying them went unanswered (they may count twice).
 * @property droppedExpired events dropped because they were older than `maxEventAgeSecs`.
 * @property droppedEvicted events evicted because the buffer was full.
 * @property droppedPurged events purged because collection was disabled or `forget` was called.
 * @property droppedInvalid events dropped as invalid after they were accepted.
 * @property droppedNoIdentity events not sent because, sent straight to the API, they meet no
 *   identity option.
 * @property existingUserInstalls first launches of users who installed before the SDK.
 * @property malformedAdvertisingIds advertising ids ignored because they were not UUIDs.
 * @property lastAttemptTime Unix seconds of the last delivery attempt.
 * @property lastStatus the HTTP status of the last attempt (null for a network error).
 * @property lastError the last delivery error, redacted.
 * @property nextAttemptTime Unix seconds of the next scheduled attempt.
 * @property pausedReason why delivery is paused (token or configuration rejected), if it is.
 * @property consecutiveFailures failed attempts in a row.
 * @property storageError the current storage problem (read-only, full, corrupt), if any.
 * @property databaseRecoveries times a corrupt database file was moved aside and recreated.
 * @property workerPanics internal faults caught on the SDK's threads (should stay 0).
 * @property uploadWakeups times the upload thread woke since start.
 * @property invalidFields invalid optional values dropped from events since start, by field.
 * @property settingsInForce the settings the SDK follows now and where each came from
 *   (default, app, or remote settings from the app's relay).
 */
data class Diagnostics(
    val queued: Int,
    val oldestQueuedAgeSecs: Long?,
    val deadLettered: Int,
    val recentDeadLetters: List<DeadLetter>,
    val delivered: Long,
    val warnings: Long,
    val sentLate: Long,
    val resentAfterDedupWindow: Long,
    val droppedExpired: Long,
    val droppedEvicted: Long,
    val droppedPurged: Long,
    val droppedInvalid: Long,
    val droppedNoIdentity: Long,
    val existingUserInstalls: Long,
    val malformedAdvertisingIds: Long,
    val lastAttemptTime: Long?,
    val lastStatus: Int?,
    val lastError: String?,
    val nextAttemptTime: Long?,
    val pausedReason: String?,
    val consecutiveFailures: Long,
    val storageError: String?,
    val databaseRecoveries: Long,
    val workerPanics: Long,
    val uploadWakeups: Long,
    val invalidFields: List<FieldCount>,
    val settingsInForce: SettingsInForce,
) {
    internal companion object {
        /** The diagnostics of an instance without a running core: zeros, and [reason] as `pausedReason`. */
        fun idle(reason: String) = Diagnostics(
            queued = 0, oldestQueuedAgeSecs = null, deadLettered = 0, recentDeadLetters = emptyList(),
            delivered = 0, warnings = 0, sentLate = 0, resentAfterDedupWindow = 0, droppedExpired = 0,
            droppedEvicted = 0, droppedPurged = 0, droppedInvalid = 0, droppedNoIdentity = 0,
            existingUserInstalls = 0, malformedAdvertisingIds = 0, lastAttemptTime = null, lastStatus = null,
            lastError = null, nextAttemptTime = null, pausedReason = reason, consecutiveFailures = 0,
            storageError = null, databaseRecoveries = 0, workerPanics = 0, uploadWakeups = 0,
            invalidFields = emptyList(), settingsInForce = SettingsInForce.idle(),
        )
    }
}

/**
 * The settings the SDK follows now, and where each came from ([Diagnostics.settingsInForce]).
 * Remote settings from the app's relay can only narrow the app's configuration.
 *
 * @property collectionEnabled false while remote settings turn the SDK off (the kill switch, or
 *   this SDK version listed): nothing is recorded or sent; queued events wait.
 * @property collectionEnabledSource `REMOTE` while remote settings turn the SDK off.
 * @property disabledReason why remote settings turned the SDK off, if they do.
 * @property flushIntervalSecs seconds between sends of waiting events.
 * @property flushIntervalSource where [flushIntervalSecs] came from.
 * @property maxBatch events per request at most.
 * @property maxBatchSource where [maxBatch] came from.
 * @property settingsTtlSecs how long a fetched document stays fresh, in seconds.
 * @property settingsTtlSource where [settingsTtlSecs] came from.
 * @property remoteFetchEnabled true when the SDK fetches remote settings (its endpoint is a relay).
 * @property remoteFetchedAt Unix seconds when the document in force was fetched or confirmed.
 * @property remoteDocumentsIgnored broken documents ignored whole since start.
 * @property lastIgnoredReason why the last ignored document was ignored.
 */
data class SettingsInForce(
    val collectionEnabled: Boolean,
    val collectionEnabledSource: SettingSource,
    val disabledReason: String?,
    val flushIntervalSecs: Long,
    val flushIntervalSource: SettingSource,
    val maxBatch: Int,
    val maxBatchSource: SettingSource,
    val settingsTtlSecs: Long,
    val settingsTtlSource: SettingSource,
    val remoteFetchEnabled: Boolean,
    val remoteFetchedAt: Long?,
    val remoteDocumentsIgnored: Long,
    val lastIgnoredReason: String?,
) {
    internal companion object {
        /** The settings of an instance without a running core: nothing known yet. */
        fun idle() = SettingsInForce(
            collectionEnabled = true, collectionEnabledSource = SettingSource.DEFAULT, disabledReason = null,
            flushIntervalSecs = 0, flushIntervalSource = SettingSource.DEFAULT,
            maxBatch = 0, maxBatchSource = SettingSource.DEFAULT,
            settingsTtlSecs = 0, settingsTtlSource = SettingSource.DEFAULT,
            remoteFetchEnabled = false, remoteFetchedAt = null, remoteDocumentsIgnored = 0, lastIgnoredReason = null,
        )
    }
}

/** This count as an `Int`, or `Int.MAX_VALUE` when it is larger. */
internal fun ULong.toIntSaturated(): Int = if (this > Int.MAX_VALUE.toULong()) Int.MAX_VALUE else toInt()

/** This count as an `Int`, or `Int.MAX_VALUE` when it is larger. */
internal fun UInt.toIntSaturated(): Int = if (this > Int.MAX_VALUE.toUInt()) Int.MAX_VALUE else toInt()

/** This count as a `Long`, or `Long.MAX_VALUE` when it is larger. */
internal fun ULong.toLongSaturated(): Long = if (this > Long.MAX_VALUE.toULong()) Long.MAX_VALUE else toLong()

/** The core's flush report in Kotlin's number types. */
internal fun CoreFlushReport.toKotlin() = FlushReport(
    sent = sent.toIntSaturated(),
    processed = processed.toIntSaturated(),
    failed = failed.toIntSaturated(),
    remaining = remaining.toIntSaturated(),
    lastStatus = lastStatus?.toInt(),
    timedOut = timedOut,
)

/** The core's request outcome in Kotlin's number types. */
internal fun CoreBatchOutcome.toKotlin() = BatchOutcome(
    events = events.toIntSaturated(),
    status = status?.toInt(),
    processed = processed.toIntSaturated(),
    failed = failed.toIntSaturated(),
    warnings = warnings.toIntSaturated(),
    willRetry = willRetry,
    message = message,
    results = results,
)

/** The core's diagnostics in Kotlin's number types. */
internal fun CoreDiagnostics.toKotlin() = Diagnostics(
    queued = queued.toIntSaturated(),
    oldestQueuedAgeSecs = oldestQueuedAgeSecs?.toLongSaturated(),
    deadLettered = deadLettered.toIntSaturated(),
    recentDeadLetters = recentDeadLetters,
    delivered = delivered.toLongSaturated(),
    warnings = warnings.toLongSaturated(),
    sentLate = sentLate.toLongSaturated(),
    resentAfterDedupWindow = resentAfterDedupWindow.toLongSaturated(),
    droppedExpired = droppedExpired.toLongSaturated(),
    droppedEvicted = droppedEvicted.toLongSaturated(),
    droppedPurged = droppedPurged.toLongSaturated(),
    droppedInvalid = droppedInvalid.toLongSaturated(),
    droppedNoIdentity = droppedNoIdentity.toLongSaturated(),
    existingUserInstalls = existingUserInstalls.toLongSaturated(),
    malformedAdvertisingIds = malformedAdvertisingIds.toLongSaturated(),
    lastAttemptTime = lastAttemptTime,
    lastStatus = lastStatus?.toInt(),
    lastError = lastError,
    nextAttemptTime = nextAttemptTime,
    pausedReason = pausedReason,
    consecutiveFailures = consecutiveFailures.toLongSaturated(),
    storageError = storageError,
    databaseRecoveries = databaseRecoveries.toLongSaturated(),
    workerPanics = workerPanics.toLongSaturated(),
    uploadWakeups = uploadWakeups.toLongSaturated(),
    invalidFields = invalidFields.map { FieldCount(it.field, it.count.toLongSaturated()) },
    settingsInForce = settingsInForce.toKotlin(),
)

/** The core's settings in force in Kotlin's number types. */
internal fun CoreSettingsInForce.toKotlin() = SettingsInForce(
    collectionEnabled = collectionEnabled,
    collectionEnabledSource = collectionEnabledSource,
    disabledReason = disabledReason,
    flushIntervalSecs = flushIntervalSecs.toLongSaturated(),
    flushIntervalSource = flushIntervalSource,
    maxBatch = maxBatch.toIntSaturated(),
    maxBatchSource = maxBatchSource,
    settingsTtlSecs = settingsTtlSecs.toLongSaturated(),
    settingsTtlSource = settingsTtlSource,
    remoteFetchEnabled = remoteFetchEnabled,
    remoteFetchedAt = remoteFetchedAt,
    remoteDocumentsIgnored = remoteDocumentsIgnored.toLongSaturated(),
    lastIgnoredReason = lastIgnoredReason,
)
