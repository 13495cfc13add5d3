package dev.appconversions.android

import android.util.Log
import dev.appconversions.Conversions
import kotlin.coroutines.cancellation.CancellationException
import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Job
import kotlinx.coroutines.launch
import kotlinx.coroutines.withTimeoutOrNull

/**
 * What the platform reports about the advertising id, as the app reads it (with Play
 * Services: `AdvertisingIdClient.getAdvertisingIdInfo(context)`). The SDK keeps only the
 * SHA-256 of the id; a zeroed id counts as limit-ad-tracking.
 *
 * @property id the raw advertising id (GAID), or null when there is none.
 * @property isLimitAdTrackingEnabled the user opted out of Ads Personalization.
 */
data class AdvertisingInfo(val id: String?, val isLimitAdTrackingEnabled: Boolean)

/** How long the first launch waits for the first advertising info before it is recorded without. */
internal val FIRST_READ_WAIT = 5.seconds

/**
 * Calls the app's blocking advertising-info reader on [scope] (the IO dispatcher), at start and
 * on each return to the foreground, and applies what it returns. The launch waits for the
 * first read, so that `app_install` carries the advertising id when the user allows it.
 */
internal class AdvertisingReader(
    private val conversions: Conversions,
    private val read: () -> AdvertisingInfo,
    private val scope: CoroutineScope,
    private val firstReadWait: Duration = FIRST_READ_WAIT,
) {
    private val first: Job = refresh()

    /** Reads and applies the advertising info in the background; a failure is logged. */
    fun refresh(): Job = scope.launch {
        try {
            val info = read()
            conversions.setAdvertisingInfo(info.id, info.isLimitAdTrackingEnabled)
        } catch (e: CancellationException) {
            throw e
        } catch (e: Exception) {
            Log.w(TAG, "reading the advertising id failed: $e")
        }
    }

    /** Runs [action] in the background once the first read was applied, failed or took too long. */
    fun afterFirstRead(action: () -> Unit) {
        scope.launch {
            withTimeoutOrNull(firstReadWait) { first.join() }
            action()
        }
    }
}
