package dev.appconversions

import java.math.BigDecimal
import java.util.Currency
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertNotEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class PrivacyTest : SandboxTest() {
    private val usd = Currency.getInstance("USD")

    @Test
    fun `with limit ad tracking on, later events carry opt_out and no hashed_maids`() = runBlocking {
        val conversions = start()
        conversions.lead()
        conversions.flush()

        conversions.setLimitAdTracking(true)
        conversions.checkout(BigDecimal("25.00"), usd, "order-1", user = SHOPPER)
        conversions.flush()

        val lead = sandbox.accepted("lead").single()
        assertEquals(listOf(sha256(ADVERTISING_ID.lowercase())), lead.strings("user_data.hashed_maids"))
        assertNotEquals("true", lead.string("opt_out"))
        val checkout = sandbox.accepted("checkout").single()
        assertEquals("true", checkout.string("opt_out"))
        assertEquals(emptyList<String>(), checkout.strings("user_data.hashed_maids"))
        assertTrue(conversions.privacy.optOut)
    }

    @Test
    fun `events queued before the opt-out lose their advertising id when sent`() = runBlocking {
        val conversions = start()
        conversions.lead(SHOPPER)

        conversions.setLimitAdTracking(true)
        conversions.flush()

        val lead = sandbox.accepted("lead").single()
        assertEquals("true", lead.string("opt_out"))
        assertEquals(emptyList<String>(), lead.strings("user_data.hashed_maids"))
    }

    @Test
    fun `a zeroed advertising id means opt-out`() = runBlocking {
        val conversions = start(PrivacyState())

        conversions.setAdvertisingInfo("00000000-0000-0000-0000-000000000000", limitAdTracking = false)
        conversions.signup(SHOPPER)
        conversions.flush()

        assertFalse(conversions.privacy.optOut, "the wrapper passes the id as it is; the core opts out")
        val signup = sandbox.accepted("signup").single()
        assertEquals("true", signup.string("opt_out"))
        assertEquals(emptyList<String>(), signup.strings("user_data.hashed_maids"))
    }

    @Test
    fun `an advertising id set later identifies later events`() = runBlocking {
        val conversions = start(PrivacyState())

        conversions.setAdvertisingId(ADVERTISING_ID.lowercase())
        conversions.search("shoes")
        conversions.flush()

        assertEquals(listOf(sha256(ADVERTISING_ID.lowercase())), sandbox.accepted("search").single().strings("user_data.hashed_maids"))
    }

    @Test
    fun `limited data processing marks events ldp`() = runBlocking {
        val conversions = start()

        conversions.setLimitedDataProcessing(true)
        conversions.signup()
        conversions.flush()

        assertEquals("ldp", sandbox.accepted("signup").single().string("custom_data.opt_out_type"))
    }

    @Test
    fun `with collection disabled nothing is recorded and the buffer is purged`() = runBlocking {
        val conversions = start()
        conversions.lead()

        conversions.setCollectionEnabled(false)
        val result = conversions.signup(SHOPPER)
        assertEquals(0, conversions.diagnostics().queued)
        conversions.setCollectionEnabled(true)
        conversions.flush()

        assertFalse(result.recorded)
        assertEquals(emptyList<Any>(), sandbox.accepted())
    }

    @Test
    fun `forget deletes queued events`() = runBlocking {
        sandbox.fault("""{"status":503,"retry_after":"3600"}""")
        val conversions = start()
        conversions.lead()
        conversions.flush()
        assertEquals(1, conversions.diagnostics().queued)

        conversions.forget()

        assertEquals(0, conversions.diagnostics().queued)
    }
}
