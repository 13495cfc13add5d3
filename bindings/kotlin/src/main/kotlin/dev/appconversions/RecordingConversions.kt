package dev.appconversions

import java.util.UUID
import kotlin.time.Duration

/**
 * The test double of [Conversions], from [Conversions.forUnitTests]: records what the app
 * tracked, in order, and the privacy state it set, in memory. It loads no native library and
 * starts no thread, so an app's unit tests run on any JVM and fast. It does not validate events
 * (the core does, and this repository tests its rules): `track` answers `recorded = true`
 * unless collection is disabled, as the SDK would.
 *
 * ```kotlin
 * val conversions = Conversions.forUnitTests()
 * Cart(conversions).checkOut(order)          // the app's code takes a ConversionsApi
 * val checkout = conversions.assertTracked(EventName.CHECKOUT)
 * assertEquals("24.99", checkout.customData?.value)
 * ```
 */
class RecordingConversions : ConversionsApi {
    private val lock = Any()
    private val recorded = mutableListOf<Event>()
    private var currentPrivacy = PrivacyState()
    private var flushes = 0

    /** Every event recorded, in order, each with the event id its `track` returned. */
    val events: List<Event> get() = synchronized(lock) { recorded.toList() }

    /** The privacy state the app last set. */
    val privacy: PrivacyState get() = synchronized(lock) { currentPrivacy.copy() }

    /** How many times the app flushed. */
    val flushCount: Int get() = synchronized(lock) { flushes }

    /** The recorded events of the standard type [name], in order. */
    fun events(name: EventName): List<Event> = events.filter { it.name == name }

    /** The recorded advertiser-defined events called [name], in order. */
    fun customEvents(name: String): List<Event> =
        events.filter { it.name == EventName.CUSTOM && it.customEventName == name }

    /** Forgets everything recorded and restores the default privacy state. */
    fun reset() = synchronized(lock) {
        recorded.clear()
        currentPrivacy = PrivacyState()
        flushes = 0
    }

    /**
     * Returns the last event of type [name] when exactly [times] were recorded.
     *
     * @throws AssertionError naming what was recorded instead.
     */
    @JvmOverloads
    fun assertTracked(name: EventName, times: Int = 1): Event {
        val matching = events(name)
        if (matching.size != times || matching.isEmpty()) {
            throw AssertionError("expected $times ${name.name} event(s), recorded ${matching.size}; all recorded: ${summary()}")
        }
        return matching.last()
    }

    /** @throws AssertionError naming what was recorded, unless nothing was. */
    fun assertNothingTracked() {
        val all = events
        if (all.isNotEmpty()) throw AssertionError("expected no event, recorded ${all.size}: ${summary()}")
    }

    /** Records [event] (with a generated event id when it has none) unless collection is disabled. */
    override fun track(event: Event): TrackResult {
        val eventId = event.eventId ?: UUID.randomUUID().toString()
        synchronized(lock) {
            if (!currentPrivacy.collectionEnabled) {
                return TrackResult(eventId = eventId, recorded = false, warnings = emptyList())
            }
            recorded += event.copy(eventId = eventId)
        }
        return TrackResult(eventId = eventId, recorded = true, warnings = emptyList())
    }

    override fun setPrivacy(privacy: PrivacyState) = update { privacy.copy() }

    override fun setLimitAdTracking(enabled: Boolean) = update { it.copy(optOut = enabled) }

    override fun setAdvertisingId(advertisingId: String?) = update { it.copy(advertisingId = advertisingId) }

    override fun setAdvertisingInfo(advertisingId: String?, limitAdTracking: Boolean) =
        update { it.copy(advertisingId = advertisingId, optOut = limitAdTracking) }

    override fun setLimitedDataProcessing(enabled: Boolean) = update { it.copy(limitedDataProcessing = enabled) }

    /** Remembers the consent; while off, `track` records nothing, as the SDK. */
    override fun setCollectionEnabled(enabled: Boolean) = update { it.copy(collectionEnabled = enabled) }

    /** Counts the flush and reports every recorded event as processed; never waits. */
    override suspend fun flush(timeout: Duration): FlushReport = synchronized(lock) {
        flushes += 1
        val count = recorded.size
        FlushReport(sent = count, processed = count, failed = 0, remaining = 0, lastStatus = null, timedOut = false)
    }

    private fun update(change: (PrivacyState) -> PrivacyState) = synchronized(lock) {
        currentPrivacy = change(currentPrivacy.copy())
    }

    /** `checkout A-1001, lead <id>`: what was recorded, for a failed assertion's message. */
    private fun summary(): String = events.joinToString(", ") { event ->
        val name = if (event.name == EventName.CUSTOM) event.customEventName ?: "custom" else event.name.name.lowercase()
        "$name ${event.eventId}"
    }.ifEmpty { "nothing" }
}
