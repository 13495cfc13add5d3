package dev.appconversions

import java.math.BigDecimal
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows
import org.junit.jupiter.params.ParameterizedTest
import org.junit.jupiter.params.provider.Arguments
import org.junit.jupiter.params.provider.MethodSource

class InvalidInputTest : SandboxTest() {
    /** A bad call and the field its error must name. */
    class BadCall(val field: String, val call: Conversions.() -> Unit) {
        override fun toString() = field
    }

    fun badCalls() = listOf(
        BadCall("custom_data.value") { checkout(BigDecimal("-1"), "USD") },
        BadCall("custom_data.value") { checkout(BigDecimal.ZERO, "USD") },
        BadCall("custom_data.currency") { checkout(BigDecimal.TEN, "dollars") },
        BadCall("user_data.em") { lead(UserData(emails = listOf("not-an-email"))) },
        BadCall("custom_event_name") { custom("took survey!") },
        BadCall("event_source_url") { pageVisit("ftp://shop.example.com") },
        BadCall("custom_data.contents[0].quantity") { addToCart(listOf(ContentItem(id = "a", quantity = -1))) },
        BadCall("event_time") { track(EventName.LEAD, SHOPPER, eventTime = 0) },
        BadCall("device.language") { updateDevice { it.copy(language = "english") } },
    ).map { Arguments.of(it) }

    @ParameterizedTest
    @MethodSource("badCalls")
    fun `bad input raises InvalidInput naming the field and stores nothing`(bad: BadCall) = runBlocking {
        // Strict, as the README suggests for tests: without it a bad optional field is dropped
        // with a warning and the event kept.
        val conversions = start { strictValidation = true }

        val error = assertThrows<ConversionsException.InvalidInput> { conversions.(bad.call)() }

        assertEquals(bad.field, error.field)
        assertEquals(0uL, conversions.diagnostics().queued)
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
