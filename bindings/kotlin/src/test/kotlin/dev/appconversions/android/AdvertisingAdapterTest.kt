package dev.appconversions.android

import android.app.Activity
import dev.appconversions.PrivacyState
import dev.appconversions.SandboxTest.Companion.sha256
import dev.appconversions.UserData
import dev.appconversions.at
import dev.appconversions.lead
import dev.appconversions.strings
import java.util.concurrent.CountDownLatch
import kotlin.time.Duration.Companion.milliseconds
import kotlinx.serialization.json.JsonPrimitive
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.robolectric.Robolectric

/** The app's advertising-id reader: applied before the launch, bounded, a zeroed id an opt-out. */
class AdvertisingAdapterTest : AndroidTest() {
    private val never = CountDownLatch(1)

    @Before
    fun shortWait() {
        AndroidConversions.firstAdvertisingReadWait = 300.milliseconds
    }

    @After
    fun restoreWait() {
        never.countDown()
        AndroidConversions.firstAdvertisingReadWait = FIRST_READ_WAIT
    }

    @Test
    fun `app_install carries the id the reader returns`() {
        val conversions = start(privacy = PrivacyState(), advertisingInfo = { AdvertisingInfo(ADVERTISING_ID, false) })
        Robolectric.buildActivity(Activity::class.java).setup()

        conversions.eventuallyDelivered(listOf("app_install"))
        val install = sandbox.accepted().single()
        assertEquals(listOf(sha256(ADVERTISING_ID.lowercase())), install.strings("user_data.hashed_maids"))
        assertEquals(JsonPrimitive(false), install.at("opt_out"))
    }

    @Test
    fun `a reader that never answers delays the launch only up to the wait`() {
        val started = System.nanoTime()
        // The id the app had cached goes out; the reader's never comes.
        val conversions = start(advertisingInfo = { never.await(); AdvertisingInfo(null, true) })
        Robolectric.buildActivity(Activity::class.java).setup()

        conversions.eventuallyDelivered(listOf("app_install"))
        val install = sandbox.accepted().single()
        assertEquals(listOf(sha256(ADVERTISING_ID.lowercase())), install.strings("user_data.hashed_maids"))
        assertTrue("well under the five seconds of an app", (System.nanoTime() - started) < 3_000_000_000L)
    }

    @Test
    fun `a zeroed advertising id is an opt-out`() {
        val conversions = start(
            privacy = PrivacyState(),
            advertisingInfo = { AdvertisingInfo("00000000-0000-0000-0000-000000000000", false) },
        )
        Robolectric.buildActivity(Activity::class.java).setup()
        assertTrue("the reader's answer was applied", eventually { conversions.privacy.advertisingId != null })
        conversions.lead(UserData(emails = listOf("shopper@example.com")))

        // app_install has no identity left (no id, no email, no relay): only the lead is sent.
        assertEquals(listOf("lead"), conversions.delivered())
        val lead = sandbox.accepted().single()
        assertEquals(JsonPrimitive(true), lead.at("opt_out"))
        assertEquals(emptyList<String>(), lead.strings("user_data.hashed_maids"))
    }
}
