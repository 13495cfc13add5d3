package dev.appconversions.android

import android.app.Activity
import android.net.ConnectivityManager
import android.net.NetworkCapabilities
import android.os.Build
import android.os.LocaleList
import dev.appconversions.at
import dev.appconversions.custom
import dev.appconversions.string
import dev.appconversions.strings
import kotlinx.serialization.json.JsonObject
import kotlinx.serialization.json.JsonPrimitive
import kotlinx.serialization.json.int
import kotlinx.serialization.json.jsonPrimitive
import org.junit.After
import org.junit.Assert.assertEquals
import org.junit.Assert.assertNull
import org.junit.Assert.assertTrue
import org.junit.Before
import org.junit.Test
import org.robolectric.Robolectric
import org.robolectric.Shadows.shadowOf
import org.robolectric.annotation.Config
import org.robolectric.shadows.ShadowNetworkCapabilities
import java.util.Locale
import java.util.TimeZone

/** What the adapter reads from the platform into `app_info` and `device_info`, as it arrives. */
class AppDeviceInfoAdapterTest : AndroidTest() {
    private lateinit var locale: Locale
    private lateinit var locales: LocaleList
    private lateinit var timeZone: TimeZone

    @Before
    fun keepDefaults() {
        locale = Locale.getDefault()
        locales = LocaleList.getDefault()
        timeZone = TimeZone.getDefault()
    }

    @After
    fun restoreDefaults() {
        Locale.setDefault(locale)
        LocaleList.setDefault(locales)
        TimeZone.setDefault(timeZone)
    }

    @Test
    @Config(qualifiers = "w360dp-h780dp-xxhdpi")
    fun `the install carries app_info and device_info from the package manager, Build, the display, the locale and the network`() {
        shadowOf(app.packageManager).setInstallSourceInfo(app.packageName, "com.android.vending", "com.android.vending")
        Locale.setDefault(Locale.forLanguageTag("fr-CA"))
        LocaleList.setDefault(LocaleList.forLanguageTags("fr-CA,en-US,fil-PH"))
        TimeZone.setDefault(TimeZone.getTimeZone("America/Toronto"))
        onNetwork(NetworkCapabilities.TRANSPORT_WIFI)
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()
        assertEquals(listOf("app_install"), conversions.delivered())

        val install = sandbox.accepted().single()
        assertEquals(app.packageName, install.string("app_info.app_id"))
        assertEquals(app.packageName, install.string("app_info.app_package_name"))
        assertEquals(app.applicationInfo.loadLabel(app.packageManager).toString(), install.string("app_info.app_name"))
        assertEquals("Google Play Store", install.string("app_info.app_store"))
        assertEquals("android", install.string("device_info.os_family"))
        assertEquals(Build.VERSION.RELEASE, install.string("device_info.os_version"))
        assertEquals(Build.VERSION.RELEASE.substringBefore('.'), install.string("device_info.os_name"))
        assertEquals(Build.MANUFACTURER, install.string("device_info.brand"))
        assertEquals(Build.MODEL, install.string("device_info.model"))
        assertEquals("phone", install.string("device_info.type"))
        assertEquals("cellphone", install.string("device_info.form_factor"))
        assertEquals("wifi", install.string("device_info.network_type"))
        assertEquals("fr-CA", install.string("device_info.locale"))
        // fil has no two-letter ISO 639-1 code.
        assertEquals(listOf("fr", "en"), install.strings("device_info.languages"))
        assertEquals("America/Toronto", install.string("device_info.timezone"))
        assertTrue(install.string("device_info.timezone_abbr") in setOf("EST", "EDT"))
        // 360 x 780 dp at xxhdpi (3 px a dp), the shorter side as the width.
        assertEquals(1080, install.int("device_info.screen_width"))
        assertEquals(2340, install.int("device_info.screen_height"))
        val metrics = app.resources.displayMetrics
        assertEquals(Math.round((metrics.xdpi + metrics.ydpi) / 2), install.int("device_info.screen_density"))
        assertEquals(Runtime.getRuntime().availableProcessors(), install.int("device_info.cpu_cores"))
        // The flat fields the API still reads stay.
        assertEquals(Build.MODEL, install.string("device_model"))
        assertEquals("fr", install.string("language"))
        assertEquals(JsonPrimitive(true), install.at("wifi"))
    }

    @Test
    @Config(qualifiers = "sw720dp")
    fun `a large screen is a tablet and an app installed without a store names none`() {
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()
        assertEquals(listOf("app_install"), conversions.delivered())

        val install = sandbox.accepted().single()
        assertEquals("tablet", install.string("device_info.form_factor"))
        assertNull(install.at("app_info.app_store"))
    }

    @Test
    @Config(qualifiers = "television")
    fun `a television says tv`() {
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()
        assertEquals(listOf("app_install"), conversions.delivered())
        assertEquals("tv", sandbox.accepted().single().string("device_info.form_factor"))
    }

    @Test
    fun `the network kind follows the default network, a cellular generation being unknown without a permission`() {
        onNetwork(NetworkCapabilities.TRANSPORT_ETHERNET)
        val conversions = start()
        Robolectric.buildActivity(Activity::class.java).setup()
        conversions.delivered()

        val cellular = onNetwork(NetworkCapabilities.TRANSPORT_CELLULAR)
        shadowOf(connectivity).networkCallbacks.forEach { it.onCapabilitiesChanged(connectivity.activeNetwork!!, cellular) }
        conversions.custom("TookSurvey")

        assertEquals(listOf("app_install", "TookSurvey"), conversions.delivered())
        val (install, survey) = sandbox.accepted()
        assertEquals("ethernet", install.string("device_info.network_type"))
        assertEquals("unknown", survey.string("device_info.network_type"))
        assertEquals(JsonPrimitive(false), survey.at("wifi"))
    }

    private val connectivity get() = app.getSystemService(ConnectivityManager::class.java)

    /** Makes the default network one of [transport]; returns its capabilities. */
    private fun onNetwork(transport: Int): NetworkCapabilities {
        val capabilities = ShadowNetworkCapabilities.newInstance()
        shadowOf(capabilities).addTransportType(transport)
        shadowOf(connectivity).setNetworkCapabilities(connectivity.activeNetwork, capabilities)
        return capabilities
    }

    private fun JsonObject.int(path: String): Int? = at(path)?.jsonPrimitive?.int
}
