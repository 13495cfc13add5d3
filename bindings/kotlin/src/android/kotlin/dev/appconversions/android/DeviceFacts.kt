package dev.appconversions.android

import android.content.Context
import android.content.res.Configuration
import android.net.ConnectivityManager
import android.net.NetworkCapabilities
import android.os.Build
import android.os.LocaleList
import android.telephony.TelephonyManager
import android.util.DisplayMetrics
import android.view.WindowManager
import dev.appconversions.AppInfo
import dev.appconversions.DeviceInfo
import dev.appconversions.FormFactor
import dev.appconversions.NetworkType
import dev.appconversions.OsFamily
import java.util.Date
import java.util.Locale
import java.util.TimeZone
import kotlin.math.roundToInt

/** Smallest screen width, in dp, from which a device counts as a tablet. */
private const val TABLET_MIN_WIDTH_DP = 600

/**
 * The app's facts from the package manager: package name, label, version, first install time
 * and the installer (the core names the stores it knows: `com.android.vending` is Google Play).
 */
internal fun readAppInfo(context: Context): AppInfo {
    val packageManager = context.packageManager
    // The (String, Int) form is the one available down to minSdk; deprecated from API 33 only.
    @Suppress("DEPRECATION")
    val packageInfo = packageManager.getPackageInfo(context.packageName, 0)
    return AppInfo(
        appId = context.packageName,
        appName = context.applicationInfo.loadLabel(packageManager).toString(),
        appVersion = packageInfo.versionName,
        // 0 means the platform did not say (some devices, Robolectric): not "installed in 1970",
        // which would make the first launch an existing user's and record no app_install.
        firstInstallTime = packageInfo.firstInstallTime.takeIf { it > 0 }?.let { it / 1000 },
        appPackageName = context.packageName,
        appStore = readInstaller(context),
    )
}

/** The package name of the app that installed this one, or null (sideloaded, or not said). */
internal fun readInstaller(context: Context): String? = runCatching {
    val packageManager = context.packageManager
    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
        packageManager.getInstallSourceInfo(context.packageName).installingPackageName
    } else {
        @Suppress("DEPRECATION")
        packageManager.getInstallerPackageName(context.packageName)
    }
}.getOrNull()?.takeIf { it.isNotBlank() }

/**
 * The device's facts from `Build`, the configuration, the display, the locale and time zone,
 * the carrier, the network and the platform's user agent. None needs a permission beyond the
 * ACCESS_NETWORK_STATE the library's manifest declares.
 */
internal fun readDeviceInfo(context: Context, network: NetworkCapabilities?): DeviceInfo {
    val configuration = context.resources.configuration
    val screen = readScreen(context)
    val timeZone = TimeZone.getDefault()
    return DeviceInfo(
        brand = Build.MANUFACTURER,
        model = Build.MODEL,
        deviceType = if (configuration.smallestScreenWidthDp >= TABLET_MIN_WIDTH_DP) "tablet" else "phone",
        osVersion = Build.VERSION.RELEASE,
        language = Locale.getDefault().toLanguageTag().substringBefore('-').takeIf { it.length == 2 },
        carrier = readCarrier(context),
        wifi = network?.hasTransport(NetworkCapabilities.TRANSPORT_WIFI) ?: false,
        userAgent = System.getProperty("http.agent") ?: defaultUserAgent(),
        osFamily = OsFamily.ANDROID,
        formFactor = formFactor(configuration),
        networkType = network?.let(::networkType),
        locale = Locale.getDefault().toLanguageTag(),
        languages = LocaleList.getDefault().let { list -> (0 until list.size()).map { list[it].toLanguageTag() } },
        timezone = timeZone.id,
        timezoneAbbr = timeZone.getDisplayName(timeZone.inDaylightTime(Date()), TimeZone.SHORT, Locale.US),
        screenWidth = screen?.first,
        screenHeight = screen?.second,
        screenDensity = readDensity(context),
        cpuCores = Runtime.getRuntime().availableProcessors(),
    )
}

/** A television, a watch or a headset by the UI mode; otherwise a tablet or a phone by width. */
internal fun formFactor(configuration: Configuration): FormFactor =
    when (configuration.uiMode and Configuration.UI_MODE_TYPE_MASK) {
        Configuration.UI_MODE_TYPE_TELEVISION -> FormFactor.TV
        Configuration.UI_MODE_TYPE_WATCH -> FormFactor.SMARTWATCH
        Configuration.UI_MODE_TYPE_VR_HEADSET -> FormFactor.VR
        else -> if (configuration.smallestScreenWidthDp >= TABLET_MIN_WIDTH_DP) FormFactor.TABLET else FormFactor.CELLPHONE
    }

/**
 * The kind of the default network. A cellular network's generation needs READ_PHONE_STATE,
 * which the SDK does not ask for: cellular is `UNKNOWN`, as are VPN-only and Bluetooth networks.
 */
internal fun networkType(capabilities: NetworkCapabilities): NetworkType = when {
    capabilities.hasTransport(NetworkCapabilities.TRANSPORT_WIFI) -> NetworkType.WIFI
    capabilities.hasTransport(NetworkCapabilities.TRANSPORT_ETHERNET) -> NetworkType.ETHERNET
    else -> NetworkType.UNKNOWN
}

/** The capabilities of the default network, or null without one. */
internal fun ConnectivityManager.defaultNetworkCapabilities(): NetworkCapabilities? =
    activeNetwork?.let { getNetworkCapabilities(it) }

/** The whole display in pixels (not the app's window), or null when the platform does not say. */
private fun readScreen(context: Context): Pair<Int, Int>? = runCatching {
    val windowManager = context.getSystemService(WindowManager::class.java)
    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
        windowManager.maximumWindowMetrics.bounds.let { it.width() to it.height() }
    } else {
        val metrics = DisplayMetrics()
        @Suppress("DEPRECATION")
        windowManager.defaultDisplay.getRealMetrics(metrics)
        metrics.widthPixels to metrics.heightPixels
    }
}.getOrNull()?.takeIf { (width, height) -> width > 0 && height > 0 }

/** The physical pixels per inch the display reports (the mean of its two axes). */
private fun readDensity(context: Context): Int? {
    val metrics = context.resources.displayMetrics
    return ((metrics.xdpi + metrics.ydpi) / 2).roundToInt().takeIf { it > 0 }
}

/**
 * What `http.agent` is on Android, for when it is not set (as under some test runners): every
 * event must carry a user agent.
 */
internal fun defaultUserAgent(): String =
    "Dalvik/2.1.0 (Linux; U; Android ${Build.VERSION.RELEASE}; ${Build.MODEL} Build/${Build.ID})"


/** The name of the current mobile network operator, or null without one (no permission needed). */
internal fun readCarrier(context: Context): String? =
    context.getSystemService(TelephonyManager::class.java)
        ?.networkOperatorName
        ?.takeIf { it.isNotBlank() }
