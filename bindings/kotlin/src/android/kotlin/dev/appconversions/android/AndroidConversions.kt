package dev.appconversions.android

import android.app.ActivityManager
import android.app.Application
import android.net.ConnectivityManager
import android.os.Build
import android.os.Process
import android.util.Log
import dev.appconversions.ActionSource
import dev.appconversions.ClientConfig
import dev.appconversions.ClientGate
import dev.appconversions.Conversions
import dev.appconversions.ConversionsClient
import dev.appconversions.HttpUrlConnectionTransport
import dev.appconversions.LogLevel
import dev.appconversions.PrivacyState
import java.io.File
import kotlin.concurrent.thread
import kotlin.time.Duration
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

    /** At most this many calls made before the background start ends wait for it. */
    private const val PENDING_CALLS = ClientGate.DEFAULT_CAPACITY

    /**
     * The instance [start] returned in this process (running, starting or inactive), or null
     * before [start]: reach the SDK from anywhere without keeping it yourself.
     */
    @JvmStatic
    @Volatile
    var instance: Conversions? = null
        private set

    /**
     * The Play Install Referrer reader of this start, or null when the app lacks the library
     * or the referrer was read already (tests swap it).
     */
    @Volatile internal var installReferrerReader: (Application) -> InstallReferrerReader? = { InstallReferrerReader.create(it) }

    /** How long the first launch waits for the advertising reader (shorter in tests). */
    @Volatile internal var firstAdvertisingReadWait: Duration = FIRST_READ_WAIT

    /**
     * Starts the SDK. Call it once, from `Application.onCreate`; the instance it returns is
     * also [instance] from then on. It never throws and never blocks: it registers the lifecycle
     * callbacks, then loads the native library, reads the app and device facts and builds the
     * core on a background thread. Calls made meanwhile are queued (at most 1,000) and replayed
     * in order. When that start fails (the native library does not load, the configuration is
     * invalid, another process holds the database), the instance does nothing, says why in
     * Logcat (`ERROR`) and in [Conversions.status], and `diagnostics()` reports the reason as
     * `pausedReason`.
     *
     * The SDK runs in one process only, by default the app's main process (whose name is the
     * package name): `Application.onCreate` also runs in a `:remote` service's or a push
     * process, and there the instance is [dev.appconversions.ConversionsStatus.Inactive] and
     * its calls do nothing (Logcat says so). The core also refuses a second process on the same
     * database file, so there is never more than one uploader.
     *
     * A start after an activity is already in the foreground (a late init) counts that
     * activity: the launch is recorded at once.
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
     * @param processName the process the SDK runs in; null (the default) for the main process.
     * @param configure adjusts the configuration, for example `{ testMode = true }`; the
     *   database path and the action source (`APP_ANDROID`) are set, the log level is `WARN`.
     *   The endpoint is taken for a relay unless its host is `api.pinterest.com`.
     *   It runs on the background thread.
     */
    @JvmStatic
    @JvmOverloads
    fun start(
        application: Application,
        endpoint: String,
        adAccountId: String,
        token: String,
        privacy: PrivacyState = PrivacyState(),
        advertisingInfo: (() -> AdvertisingInfo)? = null,
        processName: String? = null,
        configure: ClientConfig.() -> Unit = {},
    ): Conversions {
        val process = currentProcessName()
        val wanted = processName ?: application.packageName
        if (process != null && process != wanted) {
            val reason = "process $process is not $wanted, where the SDK runs"
            Log.i(TAG, "inactive: $reason; calls do nothing")
            return Conversions.inactive(reason) { Log.i(TAG, it) }.also { instance = it }
        }
        val conversions = Conversions.starting(PENDING_CALLS, privacy) { Log.w(TAG, it) }
        instance = conversions
        conversions.setLogSink(::logcat)
        val scope = CoroutineScope(SupervisorJob() + Dispatchers.IO + CoroutineName("AppConversions"))
        val advertising = advertisingInfo?.let {
            AdvertisingReader(conversions, it, scope, firstAdvertisingReadWait)
        }
        application.registerActivityLifecycleCallbacks(
            ForegroundTracker(conversions, advertising, foreground = isInForeground()),
        )
        thread(name = "AppConversions-start", isDaemon = true) {
            try {
                val referrer = installReferrerReader(application)
                val config = ClientConfig(
                    endpoint = endpoint,
                    adAccountId = adAccountId,
                    token = token,
                    databasePath = File(application.noBackupFilesDir, DATABASE_NAME).path,
                    actionSource = ActionSource.APP_ANDROID,
                    logLevel = LogLevel.WARN,
                ).apply {
                    if (referrer != null) {
                        firstLaunchWaitForInstallReferrerSecs = InstallReferrerReader.FIRST_LAUNCH_WAIT_SECS.toULong()
                    }
                }.apply(configure)
                val connectivity = application.getSystemService(ConnectivityManager::class.java)
                val device = readDeviceInfo(application, connectivity.defaultNetworkCapabilities())
                val client = ConversionsClient.withTransport(
                    config, readAppInfo(application), device, privacy, HttpUrlConnectionTransport(),
                )
                // Before the replay: what the callback reports meanwhile queues behind it.
                val offline = connectivity.activeNetwork == null
                connectivity.registerDefaultNetworkCallback(NetworkMonitor(application, conversions, offline))
                conversions.attach(client, device, config.logLevel ?: LogLevel.WARN)
                referrer?.read(conversions)
            } catch (e: Throwable) {
                // LinkageError included: a missing or broken native library must not crash the app.
                Log.e(TAG, "the SDK could not start and does nothing: $e")
                conversions.deactivate("start failed: $e")
            }
        }
        return conversions
    }
}

/** This process's name, or null when the platform does not say. */
internal fun currentProcessName(): String? =
    if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.P) {
        Application.getProcessName()
    } else {
        readProcessNameFromProc()
    }

/** Before API 28: the process name is the command line that zygote set. */
private fun readProcessNameFromProc(): String? = try {
    File("/proc/${Process.myPid()}/cmdline").readText().substringBefore('\u0000').trim().ifEmpty { null }
} catch (e: java.io.IOException) {
    null
}

/**
 * Whether an activity of this process is already visible: true for a start after an activity
 * started (a late init), and usually during a cold start for an activity too.
 */
internal fun isInForeground(): Boolean {
    val state = ActivityManager.RunningAppProcessInfo()
    ActivityManager.getMyMemoryState(state)
    return state.importance == ActivityManager.RunningAppProcessInfo.IMPORTANCE_FOREGROUND
}
