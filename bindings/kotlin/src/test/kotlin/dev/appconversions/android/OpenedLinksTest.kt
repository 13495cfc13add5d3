package dev.appconversions.android

import android.app.Activity
import android.content.Intent
import android.net.Uri
import dev.appconversions.lead
import dev.appconversions.string
import org.junit.Assert.assertEquals
import org.junit.Assert.assertFalse
import org.junit.Test
import org.robolectric.Robolectric

/** The click id of a link that opens the app: the launch intent's, and one handed in later. */
class OpenedLinksTest : AndroidTest() {
    private fun link(url: String) = Intent(Intent.ACTION_VIEW, Uri.parse(url))

    @Test
    fun `the launch intent's click id is on the install and on later events`() {
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java, link("https://shop.example.com/p/1?utm_source=pinterest&epik=launch-click")).setup()
        conversions.lead()

        assertEquals(listOf("app_install", "lead"), conversions.delivered())
        assertEquals(listOf("launch-click", "launch-click"), sandbox.accepted().map { it.string("user_data.click_id") })
    }

    @Test
    fun `a link handed in later replaces the click id`() {
        val conversions = start()
        val activity = Robolectric.buildActivity(Activity::class.java, link("shop://p/1?epik=first")).setup()
        conversions.handleIntent(link("shop://p/2#epik=second"))
        conversions.lead()

        assertEquals(listOf("app_install", "lead"), conversions.delivered())
        assertEquals("second", sandbox.accepted("lead").single().string("user_data.click_id"))
        assertFalse("an intent without a URL", conversions.handleIntent(Intent(Intent.ACTION_MAIN)))
        assertFalse(conversions.handleIntent(null))
        activity.pause().stop()
    }

    @Test
    fun `a restored activity's intent is not handed in again`() {
        val conversions = start()
        val activity = Robolectric.buildActivity(Activity::class.java, link("shop://p/1?epik=first")).setup()
        conversions.handleIntent(link("shop://p/2?epik=second"))
        activity.recreate()
        conversions.lead()

        assertEquals(listOf("app_install", "lead"), conversions.delivered())
        assertEquals("second", sandbox.accepted("lead").single().string("user_data.click_id"))
    }
}
