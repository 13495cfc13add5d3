package dev.appconversions.android

import android.app.Application
import android.net.ConnectivityManager
import dev.appconversions.ActionSource
import dev.appconversions.ClientConfig
import dev.appconversions.Conversions
import dev.appconversions.LogLevel
import dev.appconversions.PrivacyState
import java.io.File
import kotlinx.coroutines.CoroutineName
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.SupervisorJob

/**
 * Starts the SDK in an Android app and wires it to the platform: app facts from the
 * PackageManager, device facts from `Build`, the locale, the carrier and `http.agent`, the
 * buffer in `noBackupFilesDir`, launch, foreground and background from activity lifecycle
 * callbacks, connectivity and wifi from a default-network callback, log lines to Logcat
 * (tag `AppConversions`). Needs the `ACCESS_NETWORK_STATE` permission, which the AAR declares.
 */
object AndroidConversions {
    /**
     * File name of the SQLite buffer in `Context.noBackupFilesDir`: excluded from backups, so
     * a device restored from a backup counts as a new install.
     */
    const val DATABASE_NAME = "app-conversions.db"

    /**
     * Starts the SDK. Call it once, from `Application.onCreate` (before any activity starts,
     * so the first start counts as the launch), and keep the returned instance for the life of
     * the process. Returns at once; the database opens on the SDK's worker thread.
     *
     * @param application the app.
     * @param endpoint your relay's base URL (recommended), or the Conversions API's.
     * @param adAccountId the ad account id, digits only.
     * @param token the bearer token for [endpoint].
     * @param privacy the user's privacy choices known at start (consent, limited data processing).
     * @param advertisingInfo reads the advertising id and limit-ad-tracking flag; it may block
     *   and is always called in the background, at start and on each return to the foreground.
     *   The first launch waits up to five seconds for it so that `app_install` can carry the id.
     *   Null when the app has no advertising id to share or sets it itself with
     *   [Conversions.setAdvertisingInfo].
     * @param configure adjusts the configuration, for example `{ testMode = true }`; the
     *   database path and the action source (`APP_ANDROID`) are set, the log level is `WARN`.
     * @throws dev.appconversions.ConversionsException.InvalidConfig naming the configuration field.
     * @throws dev.appconversions.ConversionsException.DatabaseInUse when the SDK was already started.
     */
    fun start(
        application: Application,
        endpoint: String,
        adAccountId: String,
        token: String,
        privacy: PrivacyState = PrivacyState(),
        advertisingInfo: (() -> AdvertisingInfo)? = null,
        configure: ClientConfig.() -> Unit = {},
    ): Conversions {
        val config = ClientConfig(
            endpoint = endpoint,
            adAccountId = adAccountId,
            token = token,
            databasePath = File(application.noBackupFilesDir, DATABASE_NAME).path,
            actionSource = ActionSource.APP_ANDROID,
            logLevel = LogLevel.WARN,
        ).apply(configure)
        val connectivity = application.getSystemService(ConnectivityManager::class.java)
        val device = readDeviceInfo(application, wifi = connectivity.isOnWifi())
        val conversions = Conversions.start(config, readAppInfo(application), device, privacy)
        conversions.setLogSink(::logcat)
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO + CoroutineName("AppConversions"))
        val advertising = advertisingInfo?.let { AdvertisingReader(conversions, it, scope) }
        application.registerActivityLifecycleCallbacks(ForegroundTracker(conversions, advertising))
        val offline = connectivity.activeNetwork == null
        connectivity.registerDefaultNetworkCallback(NetworkMonitor(application, conversions, offline))
        return conversions
    }
}
