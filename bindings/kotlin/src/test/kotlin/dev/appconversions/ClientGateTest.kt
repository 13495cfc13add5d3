package dev.appconversions

import java.lang.reflect.Proxy
import java.util.Collections
import kotlin.time.Duration.Companion.milliseconds
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * The queue in front of a core that starts in the background: calls wait in order, bounded,
 * and are replayed once; an inactive instance drops them. A fake core records the calls.
 */
class ClientGateTest {
    private val calls: MutableList<String> = Collections.synchronizedList(mutableListOf())
    private val logged: MutableList<String> = Collections.synchronizedList(mutableListOf())

    /** A core that records each call's name (and a tracked event's id) and returns defaults. */
    private val core = Proxy.newProxyInstance(
        ConversionsClientInterface::class.java.classLoader,
        arrayOf(ConversionsClientInterface::class.java),
    ) { _, method, args ->
        when (method.name) {
            "track" -> {
                val event = args[0] as Event
                calls += "track ${event.eventId}"
                TrackResult(event.eventId.orEmpty(), recorded = true, warnings = emptyList())
            }
            else -> {
                calls += method.name
                null
            }
        }
    } as ConversionsClientInterface

    @Test
    fun `calls made while starting are replayed in order, with the event ids track returned`() {
        val conversions = Conversions.starting(capacity = 10, PrivacyState()) { logged += it }
        conversions.onLaunch()
        val id = conversions.track(Event(EventName.LEAD)).eventId
        conversions.track(Event(EventName.SIGNUP, eventId = "mine"))
        conversions.setLimitAdTracking(true)
        assertEquals(ConversionsStatus.Starting, conversions.status)
        assertTrue(calls.isEmpty(), "nothing reaches a core that is not there")
        assertTrue(conversions.privacy.optOut, "the privacy state applies at once")

        conversions.attach(core, DeviceInfo(model = "Pixel 8"))
        conversions.onBackground()

        assertEquals(listOf("onLaunch", "track $id", "track mine", "setPrivacy", "onBackground"), calls)
        assertEquals(ConversionsStatus.Running, conversions.status)
        assertEquals("Pixel 8", conversions.device.model)
    }

    @Test
    fun `the queue is bounded and says what it dropped`() {
        val conversions = Conversions.starting(capacity = 2, PrivacyState()) { logged += it }
        val results = (1..3).map { conversions.track(Event(EventName.LEAD, eventId = "e$it")) }

        assertEquals(listOf(true, true, false), results.map { it.recorded })
        assertTrue(logged.any { it.contains("ignored") }, "$logged")
        conversions.attach(core, DeviceInfo())
        assertEquals(listOf("track e1", "track e2"), calls)
    }

    @Test
    fun `a device change made while starting applies to the facts read in the background`() {
        val conversions = Conversions.starting(capacity = 10, PrivacyState()) { logged += it }
        conversions.updateDevice { it.copy(wifi = true) }

        conversions.attach(core, DeviceInfo(model = "Pixel 8", wifi = false))

        assertEquals(DeviceInfo(model = "Pixel 8", wifi = true), conversions.device)
        assertEquals(listOf("updateDevice"), calls)
    }

    @Test
    fun `an instance whose start failed does nothing and reports why`() = runBlocking {
        val conversions = Conversions.starting(capacity = 10, PrivacyState()) { logged += it }
        conversions.onLaunch()

        conversions.deactivate("the native library did not load")
        conversions.onForeground()
        val result = conversions.track(Event(EventName.LEAD))

        assertFalse(result.recorded)
        assertEquals(ConversionsStatus.Inactive("the native library did not load"), conversions.status)
        assertEquals("the native library did not load", conversions.diagnostics().pausedReason)
        assertFalse(conversions.flush().timedOut)
        conversions.shutdown()
        assertTrue(calls.isEmpty())
        assertTrue(logged.any { it.contains("1 queued calls dropped") }, "$logged")
    }

    @Test
    fun `a wait ends at its timeout while the start has not ended`() = runBlocking {
        val conversions = Conversions.starting(capacity = 10, PrivacyState()) { logged += it }

        assertTrue(conversions.flush(50.milliseconds).timedOut)
        assertEquals("the SDK is still starting", conversions.diagnostics().pausedReason)
    }
}
