package dev.appconversions.android

import android.content.Context
import android.content.SharedPreferences
import android.util.Log
import dev.appconversions.Conversions
import dev.appconversions.InstallReferrer
import java.lang.reflect.InvocationHandler
import java.lang.reflect.InvocationTargetException
import java.lang.reflect.Proxy
import java.util.concurrent.Executors
import java.util.concurrent.ScheduledExecutorService
import java.util.concurrent.TimeUnit

/**
 * Reads the Play Install Referrer once per install and hands it to
 * [Conversions.setInstallReferrer]: its `epik` becomes the install's click id.
 *
 * The app supplies the library (`com.android.installreferrer:installreferrer`); the SDK reaches
 * it through reflection, so apps without it carry nothing extra: then [create] logs once at
 * INFO and returns null. Every call into the library is wrapped, because `startConnection`
 * throws `SecurityException` or `DeadObjectException` on some devices. A failed attempt is
 * retried [maxAttempts] times in all, [retryDelayMs] apart, on one background thread; after
 * the last, or an answer that will not change (`FEATURE_NOT_SUPPORTED`, `DEVELOPER_ERROR`,
 * `PERMISSION_ERROR`), it gives up for good and tells the core (`null`), which releases the
 * first launch's install at once. A library that never answers holds nothing but the install's
 * bounded wait. The outcome is remembered in [preferences], so later launches skip it.
 */
internal class InstallReferrerReader private constructor(
    private val context: Context,
    private val clientClass: Class<*>,
    private val preferences: SharedPreferences,
    private val retryDelayMs: Long,
    private val maxAttempts: Int,
) {
    private val executor: ScheduledExecutorService = Executors.newSingleThreadScheduledExecutor { task ->
        Thread(task, "AppConversions-referrer").apply { isDaemon = true }
    }

    @Volatile private var finished = false

    /** Starts reading in the background; the answer goes to [conversions]. */
    fun read(conversions: Conversions) {
        executor.execute { attempt(conversions, 1) }
    }

    private fun attempt(conversions: Conversions, number: Int) {
        if (finished) return
        try {
            val builder = clientClass.getMethod("newBuilder", Context::class.java).invoke(null, context)
            val client = builder.javaClass.getMethod("build").invoke(builder)
            val listenerClass = Class.forName(LISTENER, true, clientClass.classLoader)
            val handler = InvocationHandler { proxy, method, args ->
                when (method.name) {
                    "onInstallReferrerSetupFinished" -> executor.execute {
                        answered(conversions, client, args?.firstOrNull() as? Int ?: SERVICE_DISCONNECTED, number)
                    }
                    "onInstallReferrerServiceDisconnected" -> Unit
                    "hashCode" -> return@InvocationHandler System.identityHashCode(proxy)
                    "equals" -> return@InvocationHandler proxy === args?.firstOrNull()
                    "toString" -> return@InvocationHandler "InstallReferrerStateListener"
                }
                null
            }
            val listener = Proxy.newProxyInstance(listenerClass.classLoader, arrayOf(listenerClass), handler)
            clientClass.getMethod("startConnection", listenerClass).invoke(client, listener)
        } catch (e: Throwable) {
            failed(conversions, number, "startConnection: ${e.cause()}")
        }
    }

    private fun answered(conversions: Conversions, client: Any, code: Int, number: Int) {
        when (code) {
            OK -> try {
                val details = clientClass.getMethod("getInstallReferrer").invoke(client)
                val type = details.javaClass
                val referrer = InstallReferrer(
                    referrer = type.getMethod("getInstallReferrer").invoke(details) as? String,
                    clickTime = (type.getMethod("getReferrerClickTimestampSeconds").invoke(details) as? Long)?.takeIf { it > 0 },
                    installBeginTime = (type.getMethod("getInstallBeginTimestampSeconds").invoke(details) as? Long)?.takeIf { it > 0 },
                )
                finish(conversions, referrer, "read")
            } catch (e: Throwable) {
                failed(conversions, number, "getInstallReferrer: ${e.cause()}")
            } finally {
                end(client)
            }
            FEATURE_NOT_SUPPORTED, DEVELOPER_ERROR, PERMISSION_ERROR -> {
                end(client)
                finish(conversions, null, "not available (response $code)")
            }
            else -> {
                end(client)
                failed(conversions, number, "response $code")
            }
        }
    }

    private fun failed(conversions: Conversions, number: Int, why: String) {
        if (number < maxAttempts) {
            Log.i(TAG, "install referrer attempt $number failed ($why); retrying")
            executor.schedule({ attempt(conversions, number + 1) }, retryDelayMs, TimeUnit.MILLISECONDS)
        } else {
            finish(conversions, null, "given up after $number attempts ($why)")
        }
    }

    private fun finish(conversions: Conversions, referrer: InstallReferrer?, outcome: String) {
        if (finished) return
        finished = true
        preferences.edit().putBoolean(DONE, true).apply()
        Log.i(TAG, "install referrer $outcome")
        reportFailure("setInstallReferrer") { conversions.setInstallReferrer(referrer) }
        executor.shutdown()
    }

    private fun end(client: Any) {
        try {
            clientClass.getMethod("endConnection").invoke(client)
        } catch (e: Throwable) {
            Log.i(TAG, "install referrer endConnection: ${e.cause()}")
        }
    }

    private fun Throwable.cause(): Throwable = (this as? InvocationTargetException)?.targetException ?: this

    internal companion object {
        /** The Play Install Referrer client, supplied by the app. */
        const val CLIENT = "com.android.installreferrer.api.InstallReferrerClient"
        private const val LISTENER = "com.android.installreferrer.api.InstallReferrerStateListener"
        private const val PREFERENCES = "dev.appconversions.install_referrer"
        private const val DONE = "done"

        // InstallReferrerClient.InstallReferrerResponse
        private const val SERVICE_DISCONNECTED = -1
        private const val OK = 0
        private const val FEATURE_NOT_SUPPORTED = 2
        private const val DEVELOPER_ERROR = 3
        private const val PERMISSION_ERROR = 4

        /** How long the first launch's install waits for the referrer, seconds. */
        const val FIRST_LAUNCH_WAIT_SECS = 5

        @Volatile private var absenceLogged = false

        /**
         * A reader when this install's referrer is still to be read and the app has the
         * library ([clientClassName]); null otherwise (logged once at INFO when it is absent).
         */
        fun create(
            context: Context,
            clientClassName: String = CLIENT,
            retryDelayMs: Long = 3_000,
            maxAttempts: Int = 3,
        ): InstallReferrerReader? {
            val preferences = context.getSharedPreferences(PREFERENCES, Context.MODE_PRIVATE)
            if (preferences.getBoolean(DONE, false)) return null
            val clientClass = try {
                Class.forName(clientClassName, false, InstallReferrerReader::class.java.classLoader)
            } catch (e: Throwable) {
                if (!absenceLogged) {
                    absenceLogged = true
                    Log.i(TAG, "the Play Install Referrer library is not in the app: install referrer skipped")
                }
                return null
            }
            return InstallReferrerReader(context, clientClass, preferences, retryDelayMs, maxAttempts)
        }
    }
}
