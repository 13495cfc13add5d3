package dev.appconversions.android

import android.app.Activity
import dev.appconversions.ConversionsStatus
import dev.appconversions.custom
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.robolectric.Robolectric
import org.robolectric.shadows.ShadowApplication

/** The SDK runs in one process of the app: the main one unless the app names another. */
class ProcessAdapterTest : AndroidTest() {
    @Test
    fun `in the main process the SDK runs`() {
        ShadowApplication.setProcessName(app.packageName)
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()

        assertEquals(listOf("app_install"), conversions.delivered())
    }

    @Test
    fun `in another process the SDK does nothing and says so`() {
        ShadowApplication.setProcessName("${app.packageName}:remote")
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()
        val result = conversions.custom("TookSurvey")

        assertTrue(conversions.status is ConversionsStatus.Inactive)
        assertFalse(result.recorded)
        val diagnostics = runBlocking { conversions.flush(); conversions.diagnostics() }
        assertEquals(0, diagnostics.queued)
        assertTrue(diagnostics.pausedReason.orEmpty(), diagnostics.pausedReason.orEmpty().contains(":remote"))
        assertEquals(emptyList<Any>(), sandbox.accepted())
        assertTrue(logcat().toString(), logcat().any { it.contains("inactive") && it.contains(":remote") })
        // Nothing was opened: the main process keeps the database to itself.
        assertFalse(app.noBackupFilesDir.resolve(AndroidConversions.DATABASE_NAME).exists())
    }

    @Test
    fun `the process the SDK runs in can be another one`() {
        ShadowApplication.setProcessName("${app.packageName}:tracking")
        val conversions = start(processName = "${app.packageName}:tracking")
        Robolectric.buildActivity(Activity::class.java).setup()

        assertEquals(listOf("app_install"), conversions.delivered())
    }

    @Test
    fun `a second start on the same database does nothing and says why`() {
        val first = start()
        assertEquals(listOf("app_install"), first.delivered())

        val second = start()
        val status = runBlocking { second.flush(); second.status }

        assertTrue("$status", status is ConversionsStatus.Inactive)
        assertTrue("$status", (status as ConversionsStatus.Inactive).reason.contains("DatabaseInUse"))
        assertFalse(second.custom("TookSurvey").recorded)
        assertTrue(logcat().toString(), logcat().any { it.contains("could not start") })
        // The first instance goes on alone.
        first.custom("TookSurvey")
        assertEquals(listOf("app_install", "TookSurvey"), first.delivered())
    }
}
