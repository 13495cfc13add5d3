package dev.appconversions.android

import android.content.Context
import android.os.Build
import android.telephony.TelephonyManager
import dev.appconversions.AppInfo
import dev.appconversions.DeviceInfo
import java.util.Locale

/** Smallest screen width, in dp, from which a device counts as a tablet. */
private const val TABLET_MIN_WIDTH_DP = 600

/** The app's facts from the package manager: package name, label, version, first install time. */
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
    )
}

/** The device's facts from `Build`, the locale, the carrier and the platform's user agent. */
internal fun readDeviceInfo(context: Context, wifi: Boolean?): DeviceInfo = DeviceInfo(
    brand = Build.MANUFACTURER,
    model = Build.MODEL,
    deviceType = if (context.resources.configuration.smallestScreenWidthDp >= TABLET_MIN_WIDTH_DP) {
        "tablet"
    } else {
        "phone"
    },
    osVersion = Build.VERSION.RELEASE,
    language = Locale.getDefault().toLanguageTag().substringBefore('-').takeIf { it.length == 2 },
    carrier = readCarrier(context),
    wifi = wifi,
    userAgent = System.getProperty("http.agent") ?: defaultUserAgent(),
)

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
