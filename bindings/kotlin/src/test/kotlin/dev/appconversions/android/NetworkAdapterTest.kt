package dev.appconversions.android

import android.app.Activity
import android.net.ConnectivityManager
import dev.appconversions.string
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf

/** Connectivity as the default-network callback reports it. */
class NetworkAdapterTest : AndroidTest() {
    @Test
    fun `a network regained after none retries delivery at once`() {
        val conversions = start()
        sandbox.fault("""{"status":503,"retry_after":"3600"}""")
        Robolectric.buildActivity(Activity::class.java).setup()
        // The 503 parks delivery for an hour.
        val parked = runBlocking { conversions.flush(1.seconds) }
        assertEquals(1, parked.remaining)
        assertEquals(emptyList<Any>(), sandbox.accepted())

        val connectivity = app.getSystemService(ConnectivityManager::class.java)
        val network = connectivity.activeNetwork!!
        val callbacks = shadowOf(connectivity).networkCallbacks
        assertEquals("the adapter follows the default network", 1, callbacks.size)
        callbacks.forEach { it.onLost(network) }
        callbacks.forEach { it.onAvailable(network) }

        assertTrue("delivered without waiting out the backoff", eventually { sandbox.accepted().size == 1 })
        assertEquals("app_install", sandbox.accepted().single().string("event_name"))
    }

    @Test
    fun `a network that stays up triggers no retry`() {
        val conversions = start()
        sandbox.fault("""{"status":503,"retry_after":"3600"}""")
        Robolectric.buildActivity(Activity::class.java).setup()
        runBlocking { conversions.flush(1.seconds) }

        val connectivity = app.getSystemService(ConnectivityManager::class.java)
        shadowOf(connectivity).networkCallbacks.forEach { it.onAvailable(connectivity.activeNetwork!!) }

        assertEquals(1, runBlocking { conversions.flush(1.seconds) }.remaining)
        assertEquals(emptyList<Any>(), sandbox.accepted())
    }
}
