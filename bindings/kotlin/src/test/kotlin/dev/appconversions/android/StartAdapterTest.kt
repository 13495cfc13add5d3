package dev.appconversions.android

import android.app.Activity
import android.os.Looper
import dev.appconversions.custom
import dev.appconversions.string
import org.junit.Assert.assertEquals
import org.junit.Test
import org.robolectric.Robolectric

/** The start returns at once and loses nothing called before the core is built. */
class StartAdapterTest : AndroidTest() {
    @Test
    fun `calls made right after start are delivered with the ids they returned`() {
        val conversions = start()
        // Same thread as Application.onCreate: the core is built on another one meanwhile.
        assertEquals(Looper.getMainLooper().thread, Thread.currentThread())
        val ids = (1..3).map { conversions.custom("TookSurvey").eventId }
        Robolectric.buildActivity(Activity::class.java).setup()

        val delivered = conversions.delivered()
        assertEquals(listOf("app_install", "TookSurvey", "TookSurvey", "TookSurvey"), delivered.sortedBy { it != "app_install" })
        assertEquals(ids.toSet(), sandbox.accepted("TookSurvey").map { it.string("event_id") }.toSet())
    }
}
