package dev.appconversions.android

import android.app.Activity
import android.content.res.Configuration
import dev.appconversions.string
import kotlinx.coroutines.runBlocking
import org.junit.Assert.assertEquals
import org.junit.Assert.assertTrue
import org.junit.Test
import org.robolectric.Robolectric

/** Launch, foreground and background as activity lifecycle callbacks report them. */
class LifecycleAdapterTest : AndroidTest() {
    @Test
    fun `the first start records app_install once, a relaunch app_open`() {
        val first = start()
        val activity = Robolectric.buildActivity(Activity::class.java).setup()
        assertEquals(listOf("app_install"), first.delivered())
        activity.pause().stop()
        runBlocking { first.shutdown() }

        // The next process: same data folder, a new instance.
        val second = start()
        Robolectric.buildActivity(Activity::class.java).setup()

        assertEquals(listOf("app_install", "app_open"), second.delivered())
        val installId = sandbox.accepted("app_install").single().string("event_id").orEmpty()
        assertTrue(installId, installId.startsWith("app_install-"))
    }

    @Test
    fun `a return after a long background records app_open`() {
        val conversions = start { minBackgroundForOpenSecs = 0u }
        val activity = Robolectric.buildActivity(Activity::class.java).setup()

        activity.pause().stop()
        activity.start().resume()

        assertEquals(listOf("app_install", "app_open"), conversions.delivered())
    }

    @Test
    fun `a return after a short background records nothing`() {
        val conversions = start { minBackgroundForOpenSecs = 3600u }
        val activity = Robolectric.buildActivity(Activity::class.java).setup()

        activity.pause().stop()
        activity.start().resume()

        assertEquals(listOf("app_install"), conversions.delivered())
    }

    @Test
    fun `moving between two activities is no background`() {
        val conversions = start()
        val first = Robolectric.buildActivity(Activity::class.java).setup()

        first.pause()
        val second = Robolectric.buildActivity(Activity::class.java).setup()
        first.stop()
        second.pause()
        first.restart().start().resume()
        second.stop().destroy()

        assertEquals(listOf("app_install"), conversions.delivered())
    }

    @Test
    fun `a rotation records nothing`() {
        val conversions = start()
        val activity = Robolectric.buildActivity(Activity::class.java).setup()

        val landscape = Configuration(app.resources.configuration).apply {
            orientation = Configuration.ORIENTATION_LANDSCAPE
        }
        activity.configurationChange(landscape)
        activity.recreate()

        assertEquals(listOf("app_install"), conversions.delivered())
    }

    @Test
    fun `a late start with an activity already resumed counts it as the launch`() {
        val activity = Robolectric.buildActivity(Activity::class.java).setup()

        val conversions = start()
        assertEquals(listOf("app_install"), conversions.delivered())

        // Its stop is a move to the background: the return records app_open.
        activity.pause().stop()
        Robolectric.buildActivity(Activity::class.java).setup()
        assertEquals(listOf("app_install", "app_open"), conversions.delivered())
    }

    @Test
    fun `a process started without an activity records the launch when one starts`() {
        runInBackground()
        val conversions = start()
        assertEquals(emptyList<String>(), conversions.delivered())

        Robolectric.buildActivity(Activity::class.java).setup()

        assertEquals(listOf("app_install"), conversions.delivered())
    }
}
