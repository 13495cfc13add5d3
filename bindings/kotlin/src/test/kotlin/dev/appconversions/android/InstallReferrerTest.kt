package dev.appconversions.android

import android.app.Activity
import com.android.installreferrer.api.InstallReferrerClient
import com.android.installreferrer.api.InstallReferrerClient.Behaviour
import dev.appconversions.lead
import dev.appconversions.string
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.robolectric.Robolectric

/**
 * The Play Install Referrer, read through reflection from a test double of the library's
 * client (same class name, in the test sources): its click id on the install, and every way
 * the library fails.
 */
class InstallReferrerTest : AndroidTest() {
    @Before
    fun resetDouble() {
        InstallReferrerClient.reset()
        AndroidConversions.installReferrerReader = { InstallReferrerReader.create(it, retryDelayMs = 50) }
    }

    @After
    fun restoreReader() {
        AndroidConversions.installReferrerReader = { InstallReferrerReader.create(it) }
    }

    private fun launch(): dev.appconversions.Conversions {
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()
        return conversions
    }

    private fun installClickId(): String? = sandbox.accepted("app_install").single().string("user_data.click_id")

    @Test
    fun `found, the install carries the referrer's click id, and it is read once`() {
        InstallReferrerClient.clickSeconds = System.currentTimeMillis() / 1000 - 60
        val conversions = launch()
        conversions.eventuallyDelivered(listOf("app_install"))
        assertEquals("referrer-click", installClickId())
        conversions.lead()
        assertEquals("referrer-click", conversions.run { delivered(); sandbox.accepted("lead").single().string("user_data.click_id") })
        assertEquals(1, InstallReferrerClient.connections.get())
        assertEquals(1, InstallReferrerClient.ended.get())
        assertNull("read once per install", InstallReferrerReader.create(app))
    }

    @Test
    fun `not found, the library is absent and the install goes at once`() {
        AndroidConversions.installReferrerReader = { InstallReferrerReader.create(it, clientClassName = "com.example.Missing") }
        val conversions = launch()
        assertEquals(listOf("app_install"), conversions.delivered())
        assertNull(installClickId())
        assertEquals(0, InstallReferrerClient.connections.get())
        assertTrue(logcat().toString(), logcat().any { it.contains("Install Referrer library is not in the app") })
    }

    @Test
    fun `a SecurityException is retried a bounded number of times, then given up for good`() {
        InstallReferrerClient.behaviour = Behaviour.SECURITY_EXCEPTION
        val conversions = launch()
        conversions.eventuallyDelivered(listOf("app_install"))
        assertNull(installClickId())
        assertTrue(eventually { logcat().any { it.contains("given up after 3 attempts") } })
        assertEquals(3, InstallReferrerClient.connections.get())
        assertNull("given up for good", InstallReferrerReader.create(app))
    }

    @Test
    fun `a DeadObjectException is retried, then given up for good`() {
        InstallReferrerClient.behaviour = Behaviour.DEAD_OBJECT
        val conversions = launch()
        conversions.eventuallyDelivered(listOf("app_install"))
        assertTrue(eventually { logcat().any { it.contains("DeadObjectException") && it.contains("given up") } })
        assertEquals(3, InstallReferrerClient.connections.get())
    }

    @Test
    fun `an unavailable service is retried and then read`() {
        InstallReferrerClient.behaviour = Behaviour.UNAVAILABLE_ONCE
        val conversions = launch()
        conversions.eventuallyDelivered(listOf("app_install"))
        assertEquals("referrer-click", installClickId())
        assertEquals(2, InstallReferrerClient.connections.get())
    }

    @Test
    fun `FEATURE_NOT_SUPPORTED is not retried and releases the install at once`() {
        InstallReferrerClient.behaviour = Behaviour.FEATURE_NOT_SUPPORTED
        val conversions = launch()
        conversions.eventuallyDelivered(listOf("app_install"))
        assertNull(installClickId())
        assertEquals(1, InstallReferrerClient.connections.get())
        assertNull(InstallReferrerReader.create(app))
    }

    @Test
    fun `a library that never answers holds the install only for the bounded wait`() {
        InstallReferrerClient.behaviour = Behaviour.NEVER_ANSWERS
        val conversions = start { firstLaunchWaitForInstallReferrerSecs = 1u }
        Robolectric.buildActivity(Activity::class.java).setup()
        assertEquals("held while waiting", emptyList<String?>(), conversions.delivered())
        conversions.eventuallyDelivered(listOf("app_install"))
        assertNull(installClickId())
        assertEquals(1, InstallReferrerClient.connections.get())
    }
}
