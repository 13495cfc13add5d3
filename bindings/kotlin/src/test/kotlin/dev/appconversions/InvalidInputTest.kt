package dev.appconversions

import java.math.BigDecimal
import java.util.Currency
import java.util.concurrent.CopyOnWriteArrayList
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.Arguments
import org.junit.jupiter.params.provider.MethodSource

private val USD: Currency = Currency.getInstance("USD")

class InvalidInputTest : SandboxTest() {
    /** A bad track call and the field the refusal must name. */
    class BadCall(val field: String, val call: Conversions.() -> TrackResult) {
        override fun toString() = field
    }

    fun badCalls() = listOf(
        BadCall("custom_data.value") { checkout(BigDecimal("-1"), USD) },
        BadCall("custom_data.value") { checkout(BigDecimal.ZERO, USD) },
        BadCall("custom_data.currency") { track(EventName.CHECKOUT, data = CustomData(value = "10", currency = "dollars")) },
        BadCall("user_data.em") { lead(UserData(emails = listOf("not-an-email"))) },
        BadCall("custom_event_name") { custom("took survey!") },
        BadCall("event_source_url") { pageVisit("ftp://shop.example.com") },
        BadCall("custom_data.contents[0].quantity") { addToCart(listOf(ContentItem(id = "a", quantity = -1))) },
        BadCall("event_time") { track(EventName.LEAD, SHOPPER, eventTime = 0) },
    ).map { Arguments.of(it) }

    @ParameterizedTest
    @MethodSource("badCalls")
    fun `a refused event does not throw, records nothing and a WARN line names the field`(bad: BadCall) = runBlocking {
        // Strict, as the README suggests for tests: without it a bad optional field is dropped
        // with a warning and the event kept.
        val conversions = start { strictValidation = true }
        val lines = CopyOnWriteArrayList<Pair<LogLevel, String>>()
        conversions.setLogSink { level, message -> lines += level to message }

        val result = conversions.(bad.call)()

        assertFalse(result.recorded)
        assertEquals(listOf(bad.field), result.warnings.map { it.field }, "the refusal names the field")
        assertTrue(result.eventId.isNotEmpty(), "the result carries the event id it would have had")
        assertTrue(lines.any { (level, line) -> level == LogLevel.WARN && bad.field in line && result.eventId in line }, "$lines")
        assertEquals(0, conversions.diagnostics().queued)
    }

    @Test
    fun `good events are recorded after a refused one`() = runBlocking {
        val conversions = start()

        conversions.custom("took survey!")
        val good = conversions.lead(SHOPPER)
        conversions.flush()

        assertTrue(good.recorded)
        assertEquals(listOf(good.eventId), sandbox.accepted().map { it.string("event_id") })
    }

    @Test
    fun `trackOrThrow raises InvalidInput naming the field and the rule`() = runBlocking {
        val conversions = start()

        val error = assertThrows<ConversionsException.InvalidInput> {
            conversions.trackOrThrow(Event(name = EventName.CUSTOM, customEventName = "took survey!"))
        }

        assertEquals("custom_event_name", error.field)
        assertTrue(error.rule.isNotEmpty())
        assertEquals(0, conversions.diagnostics().queued)
    }

    @Test
    fun `bad device facts raise InvalidInput naming the field`() {
        val conversions = start()

        val error = assertThrows<ConversionsException.InvalidInput> { conversions.updateDevice { it.copy(language = "english") } }

        assertEquals("device.language", error.field)
    }

    @Test
    fun `a bad configuration raises InvalidConfig naming the field`() {
        val error = assertThrows<ConversionsException.InvalidConfig> { start { adAccountId = "act-1" } }

        assertEquals("ad_account_id", error.field)
    }

    @Test
    fun `a second client on the same database is refused`() {
        start()

        assertThrows<ConversionsException.DatabaseInUse> { start() }
    }
}
