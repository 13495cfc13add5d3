package dev.appconversions.android

import android.app.Activity
import android.net.ConnectivityManager
import android.net.NetworkCapabilities
import android.os.Build
import android.telephony.TelephonyManager
import dev.appconversions.SandboxTest.Companion.sha256
import dev.appconversions.at
import dev.appconversions.custom
import dev.appconversions.string
import dev.appconversions.strings
import kotlinx.coroutines.runBlocking
import kotlinx.serialization.json.JsonPrimitive
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Test
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowNetworkCapabilities

/** The facts the adapter reads from the platform, as they arrive at the sandbox. */
class DeviceFactsAdapterTest : AndroidTest() {
    @Test
    fun `app_install carries the app, device, carrier and wifi facts field by field`() {
        shadowOf(app.getSystemService(TelephonyManager::class.java)).setNetworkOperatorName("Free Mobile")
        onWifi(true)
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()
        assertEquals(listOf("app_install"), conversions.delivered())

        val install = sandbox.accepted().single()
        assertEquals("app_android", install.string("action_source"))
        assertEquals(app.packageName, install.string("app_id"))
        assertEquals(app.applicationInfo.loadLabel(app.packageManager).toString(), install.string("app_name"))
        assertEquals(Build.MANUFACTURER, install.string("device_brand"))
        assertEquals(Build.MODEL, install.string("device_model"))
        assertEquals("phone", install.string("device_type"))
        assertEquals(Build.VERSION.RELEASE, install.string("os_version"))
        assertEquals("en", install.string("language"))
        assertEquals("Free Mobile", install.string("device_carrier"))
        assertEquals(JsonPrimitive(true), install.at("wifi"))
        assertEquals(listOf(sha256(ADVERTISING_ID.lowercase())), install.strings("user_data.hashed_maids"))
        // Robolectric, like some devices, has no http.agent: the platform's format stands in.
        assertNull(System.getProperty("http.agent"))
        assertEquals(
            "Dalvik/2.1.0 (Linux; U; Android ${Build.VERSION.RELEASE}; ${Build.MODEL} Build/${Build.ID})",
            install.string("user_data.client_user_agent"),
        )
        assertTrue(install.string("event_id").orEmpty().startsWith("app_install-"))
    }

    @Test
    fun `a first install time of 0 is no existing user`() {
        // What Robolectric reports, as some devices do.
        assertEquals(0L, app.packageManager.getPackageInfo(app.packageName, 0).firstInstallTime)
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()

        assertEquals(listOf("app_install"), conversions.delivered())
    }

    @Test
    fun `an install older than the install window is an existing user's launch`() {
        val twoDaysAgo = System.currentTimeMillis() - 2 * 24 * 3600 * 1000L
        shadowOf(app.packageManager).getInternalMutablePackageInfo(app.packageName).firstInstallTime = twoDaysAgo
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()

        // No app_install: the launch of an existing user updating into the SDK is an app_open.
        assertEquals(listOf("app_open"), conversions.delivered())
        assertEquals(1L, runBlocking { conversions.diagnostics() }.existingUserInstalls)
    }

    @Test
    fun `a move from wifi to a cellular network reaches the next event`() {
        shadowOf(app.getSystemService(TelephonyManager::class.java)).setNetworkOperatorName("Free Mobile")
        onWifi(true)
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()
        conversions.delivered()

        shadowOf(app.getSystemService(TelephonyManager::class.java)).setNetworkOperatorName("Orange")
        val cellular = onWifi(false)
        networkCallbacks().forEach { it.onCapabilitiesChanged(connectivity.activeNetwork!!, cellular) }
        conversions.custom("TookSurvey")

        assertEquals(listOf("app_install", "TookSurvey"), conversions.delivered())
        val later = sandbox.accepted().last()
        assertEquals("Orange", later.string("device_carrier"))
        assertEquals(JsonPrimitive(false), later.at("wifi"))
    }

    private val connectivity get() = app.getSystemService(ConnectivityManager::class.java)

    private fun networkCallbacks() = shadowOf(connectivity).networkCallbacks

    /** Makes the default network wifi or cellular; returns its capabilities. */
    private fun onWifi(wifi: Boolean): NetworkCapabilities {
        val capabilities = ShadowNetworkCapabilities.newInstance()
        shadowOf(capabilities).addTransportType(
            if (wifi) NetworkCapabilities.TRANSPORT_WIFI else NetworkCapabilities.TRANSPORT_CELLULAR,
        )
        shadowOf(connectivity).setNetworkCapabilities(connectivity.activeNetwork, capabilities)
        return capabilities
    }
}
