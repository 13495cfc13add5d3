package dev.appconversions

import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class LifecycleTest : SandboxTest() {
    @Test
    fun `the first launch records app_install with the hashed advertising id`() = runBlocking {
        val conversions = start()

        conversions.onLaunch()
        assertEquals(0, conversions.flush().remaining)

        val install = sandbox.accepted().single()
        assertEquals("app_install", install.string("event_name"))
        assertEquals("app_android", install.string("action_source"))
        assertEquals(
            listOf(sha256(ADVERTISING_ID.lowercase())),
            install.strings("user_data.hashed_maids"),
        )
    }

    @Test
    fun `a return to the foreground records app_open`() = runBlocking {
        val conversions = start()

        conversions.onLaunch()
        conversions.onBackground()
        conversions.onForeground()
        conversions.flush()

        assertEquals(listOf("app_install", "app_open"), sandbox.accepted().map { it.string("event_name") })
    }

    @Test
    fun `a short background records no app_open`() = runBlocking {
        val conversions = start { minBackgroundForOpenSecs = 3600u }

        conversions.onLaunch()
        conversions.onBackground()
        conversions.onForeground()
        conversions.flush()

        assertEquals(listOf("app_install"), sandbox.accepted().map { it.string("event_name") })
    }

    @Test
    fun `a later launch of the same install records app_open, not a second app_install`() = runBlocking {
        start().run {
            onLaunch()
            flush()
            shutdown()
        }

        start().run {
            onLaunch()
            flush()
        }

        assertEquals(listOf("app_install", "app_open"), sandbox.accepted().map { it.string("event_name") })
        val installId = sandbox.accepted("app_install").single().string("event_id").orEmpty()
        assertTrue(installId.startsWith("app_install-"), installId)
    }
}
