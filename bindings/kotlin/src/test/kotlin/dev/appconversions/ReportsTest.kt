package dev.appconversions

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

/**
 * The reports a Kotlin or Java caller reads have `Int` and `Long` counts: the core's unsigned
 * counts are copied into them, and a count too large for its type saturates instead of
 * wrapping to a negative number. No native library is loaded: the core's records are plain
 * data classes.
 */
class ReportsTest {
    @Test
    fun `a flush report's counts are Ints that saturate`() {
        val core = CoreFlushReport(
            sent = ULong.MAX_VALUE, processed = 3uL, failed = Int.MAX_VALUE.toULong() + 1uL, remaining = 0uL,
            lastStatus = 200.toUShort(), timedOut = true,
        )

        val report = core.toKotlin()

        assertEquals(FlushReport(sent = Int.MAX_VALUE, processed = 3, failed = Int.MAX_VALUE, remaining = 0, lastStatus = 200, timedOut = true), report)
    }

    @Test
    fun `a request's outcome has Int counts and keeps each event's result`() {
        val result = EventOutcome("e-1", "lead", EventStatus.PROCESSED, null, null)
        val core = CoreBatchOutcome(
            events = UInt.MAX_VALUE, status = null, processed = 1u, failed = 0u, warnings = 0u,
            willRetry = false, message = "network", results = listOf(result),
        )

        assertEquals(
            BatchOutcome(Int.MAX_VALUE, null, 1, 0, 0, willRetry = false, message = "network", results = listOf(result)),
            core.toKotlin(),
        )
    }

    @Test
    fun `diagnostics count the buffer in Ints and lifetimes in Longs, saturating`() {
        val core = CoreDiagnostics(
            queued = 5_000_000_000uL, oldestQueuedAgeSecs = ULong.MAX_VALUE, deadLettered = 2uL, recentDeadLetters = emptyList(),
            delivered = ULong.MAX_VALUE, warnings = 1uL, sentLate = 2uL, resentAfterDedupWindow = 3uL, droppedExpired = 4uL,
            droppedEvicted = 5uL, droppedPurged = 6uL, droppedInvalid = 7uL, droppedNoIdentity = 8uL,
            existingUserInstalls = 9uL, malformedAdvertisingIds = 10uL, lastAttemptTime = 1_700_000_000L,
            lastStatus = 503.toUShort(), lastError = "HTTP 503", nextAttemptTime = 1_700_000_030L, pausedReason = null,
            consecutiveFailures = 11uL, storageError = null, databaseRecoveries = 12uL, workerPanics = 0uL,
            uploadWakeups = Long.MAX_VALUE.toULong(), invalidFields = listOf(CoreFieldCount("custom_data.value", ULong.MAX_VALUE)),
            settingsInForce = CoreSettingsInForce(
                collectionEnabled = false, collectionEnabledSource = SettingSource.REMOTE,
                disabledReason = "turned off by remote settings (collection_enabled is false)",
                flushIntervalSecs = ULong.MAX_VALUE, flushIntervalSource = SettingSource.REMOTE,
                maxBatch = UInt.MAX_VALUE, maxBatchSource = SettingSource.APP,
                settingsTtlSecs = 3_600uL, settingsTtlSource = SettingSource.REMOTE,
                remoteFetchEnabled = true, remoteFetchedAt = 1_700_000_000L, remoteDocumentsIgnored = 2uL,
                lastIgnoredReason = "remote settings ignored: max_batch must be a whole number, 0 or more",
            ),
        )

        val diagnostics = core.toKotlin()

        assertEquals(Int.MAX_VALUE, diagnostics.queued)
        assertEquals(Long.MAX_VALUE, diagnostics.oldestQueuedAgeSecs)
        assertEquals(2, diagnostics.deadLettered)
        assertEquals(Long.MAX_VALUE, diagnostics.delivered)
        assertEquals(
            listOf(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 12L, 0L, Long.MAX_VALUE),
            with(diagnostics) {
                listOf(
                    warnings, sentLate, resentAfterDedupWindow, droppedExpired, droppedEvicted, droppedPurged,
                    droppedInvalid, droppedNoIdentity, existingUserInstalls, malformedAdvertisingIds, consecutiveFailures,
                    databaseRecoveries, workerPanics, uploadWakeups,
                )
            },
        )
        assertEquals(503, diagnostics.lastStatus)
        assertEquals(1_700_000_030L, diagnostics.nextAttemptTime)
        assertEquals(listOf(FieldCount("custom_data.value", Long.MAX_VALUE)), diagnostics.invalidFields)
        with(diagnostics.settingsInForce) {
            assertEquals(false, collectionEnabled)
            assertEquals(SettingSource.REMOTE, collectionEnabledSource)
            assertEquals(Long.MAX_VALUE, flushIntervalSecs)
            assertEquals(Int.MAX_VALUE, maxBatch)
            assertEquals(SettingSource.APP, maxBatchSource)
            assertEquals(3_600L, settingsTtlSecs)
            assertEquals(2L, remoteDocumentsIgnored)
            assertEquals(1_700_000_000L, remoteFetchedAt)
        }
    }
}
