package dev.appconversions.android

import android.app.Activity
import android.app.Application
import dev.appconversions.Conversions
import dev.appconversions.PrivacyState
import dev.appconversions.Sandbox
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Test
import org.robolectric.Robolectric
import org.robolectric.annotation.Config

/** An app that starts the SDK where the README says: in `Application.onCreate`. */
class ShopApp : Application() {
    override fun onCreate() {
        super.onCreate()
        conversions = AndroidConversions.start(
            this, AndroidTest.sandbox.baseUrl, Sandbox.AD_ACCOUNT, Sandbox.TOKEN,
            privacy = PrivacyState(advertisingId = AndroidTest.ADVERTISING_ID),
        )
    }

    /** The instance the app keeps. */
    companion object {
        /** Set by [onCreate]. */
        var conversions: Conversions? = null
    }
}

/** The start from `Application.onCreate`, before Robolectric starts any activity. */
@Config(application = ShopApp::class)
class OnCreateAdapterTest : AndroidTest() {
    /**
     * No reset: the app started the SDK before any @Before, and it may already have sent
     * app_install; the sandbox is this class's own, so it holds nothing else.
     */
    override fun resetSandbox() = Unit

    @After
    fun shutDownApp() = runBlocking {
        ShopApp.conversions?.shutdown()
        ShopApp.conversions = null
    }

    @Test
    fun `a start in onCreate records app_install when the first activity starts`() {
        val conversions = checkNotNull(ShopApp.conversions)
        Robolectric.buildActivity(Activity::class.java).setup()

        assertEquals(listOf("app_install"), conversions.delivered())
    }
}
