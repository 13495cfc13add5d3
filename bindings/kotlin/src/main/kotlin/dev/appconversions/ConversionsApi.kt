package dev.appconversions

import kotlin.time.Duration
import kotlin.time.Duration.Companion.seconds

/**
 * What an app calls on the SDK: tracking, the privacy setters and a flush. [Conversions]
 * implements it, and so does [RecordingConversions], the test double from
 * [Conversions.forUnitTests]: write the app's code against `ConversionsApi` and its unit tests
 * pass the double. The typed helpers (`checkout`, `lead`, ... in `StandardEvents.kt`) extend
 * this interface, so they record on the double exactly as on the SDK.
 */
interface ConversionsApi {
    /** Records [event]; never throws (see [Conversions.track]). */
    fun track(event: Event): TrackResult

    /** Applies [privacy] as a whole. */
    fun setPrivacy(privacy: PrivacyState)

    /** Sets Limit Ad Tracking (Ads Personalization opt-out). */
    fun setLimitAdTracking(enabled: Boolean)

    /** Sets or clears (null) the raw advertising id. */
    fun setAdvertisingId(advertisingId: String?)

    /** Applies the advertising id and the limit-ad-tracking flag in one step. */
    fun setAdvertisingInfo(advertisingId: String?, limitAdTracking: Boolean)

    /** Sets Limited Data Processing. */
    fun setLimitedDataProcessing(enabled: Boolean)

    /** Turns collection (the user's consent) on or off. */
    fun setCollectionEnabled(enabled: Boolean)

    /** Sends what is due and reports what happened, waiting at most [timeout]. */
    suspend fun flush(timeout: Duration = 30.seconds): FlushReport
}
