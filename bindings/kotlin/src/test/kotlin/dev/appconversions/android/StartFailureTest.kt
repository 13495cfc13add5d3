package dev.appconversions.android

import android.app.Activity
import android.util.Log
import dev.appconversions.ConversionsStatus
import dev.appconversions.custom
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Assert.assertTrue
import org.junit.Test
import org.robolectric.Robolectric
import org.robolectric.shadows.ShadowLog

/**
 * A native library that does not load (a missing ABI, a broken split APK) must not crash the
 * app. The build runs this class in a JVM of its own whose library override names a file that
 * does not exist.
 */
class StartFailureTest : AndroidTest() {
    @Test
    fun `a library that does not load gives an instance that does nothing and says why`() {
        val missing = System.getProperty("uniffi.component.app_conversions.libraryOverride").orEmpty()
        assertTrue("run by the build with a missing library: $missing", missing.contains("missing"))

        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup().pause().stop()
        val result = conversions.custom("TookSurvey")
        val report = runBlocking { conversions.flush(5.seconds) }

        assertFalse(result.recorded)
        assertFalse(report.timedOut)
        val status = conversions.status
        assertTrue("$status", status is ConversionsStatus.Inactive)
        val reason = (status as ConversionsStatus.Inactive).reason
        assertTrue(reason, reason.contains("UnsatisfiedLinkError") || reason.contains("NoClassDefFoundError"))
        assertEquals(reason, runBlocking { conversions.diagnostics() }.pausedReason)
        assertTrue(
            logcat().toString(),
            ShadowLog.getLogsForTag(TAG).any { it.type == Log.ERROR && it.msg.contains("could not start") },
        )
        runBlocking { conversions.shutdown() }
    }
}
