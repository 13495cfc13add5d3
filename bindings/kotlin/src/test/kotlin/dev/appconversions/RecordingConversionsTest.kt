package dev.appconversions

import java.math.BigDecimal
import java.util.Currency
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

/**
 * The test double an app uses in its own unit tests: it records what was tracked through the
 * typed helpers, honours consent as the SDK does, and its assertions say what was recorded
 * when they fail. No sandbox and no native library: these tests load neither.
 */
class RecordingConversionsTest {
    /** An app's own code, written against the interface. */
    private class Cart(private val conversions: ConversionsApi) {
        fun checkOut(orderId: String, total: BigDecimal) =
            conversions.checkout(total, Currency.getInstance("USD"), orderId = orderId)
    }

    @Test
    fun `the helpers record on the double as on the SDK`() {
        val conversions = Conversions.forUnitTests()
        Cart(conversions).checkOut("A-1001", BigDecimal("24.99"))
        conversions.lead(UserData(emails = listOf("person@example.com")))

        val checkout = conversions.assertTracked(EventName.CHECKOUT)
        assertEquals("24.99", checkout.customData?.value)
        assertEquals("USD", checkout.customData?.currency)
        assertEquals("A-1001", checkout.eventId, "the order id is the event id")
        assertEquals(listOf(EventName.CHECKOUT, EventName.LEAD), conversions.events.map { it.name })
    }

    @Test
    fun `nothing is recorded while collection is disabled`() {
        val conversions = Conversions.forUnitTests()
        conversions.setCollectionEnabled(false)
        assertFalse(conversions.custom("TookSurvey").recorded)
        conversions.assertNothingTracked()
        assertFalse(conversions.privacy.collectionEnabled)
    }

    @Test
    fun `a failed assertion names what was recorded`() {
        val conversions = Conversions.forUnitTests()
        conversions.search("red shoes")
        val failure = assertThrows<AssertionError> { conversions.assertTracked(EventName.CHECKOUT) }
        assertTrue(failure.message!!.contains("expected 1 CHECKOUT"), failure.message)
        assertTrue(failure.message!!.contains("search"), failure.message)
        assertThrows<AssertionError> { conversions.assertNothingTracked() }
    }

    @Test
    fun `a flush reports what was recorded and is counted`() = runBlocking {
        val conversions = Conversions.forUnitTests()
        conversions.signup()
        conversions.setAdvertisingInfo("38400000-8cf0-11bd-b23e-10b96e40000d", limitAdTracking = true)
        val report = conversions.flush()
        assertEquals(1, report.processed)
        assertEquals(1, conversions.flushCount)
        assertTrue(conversions.privacy.optOut)
        conversions.reset()
        conversions.assertNothingTracked()
    }
}
