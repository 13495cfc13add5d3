package dev.appconversions.android

import android.util.Log
import dev.appconversions.ConversionsException
import dev.appconversions.LogLevel

/** The Logcat tag of every SDK line. */
internal const val TAG = "AppConversions"

/** Writes one SDK log line to Logcat (the SDK's log sink on Android). */
internal fun logcat(level: LogLevel, message: String) {
    val priority = when (level) {
        LogLevel.OFF -> return
        LogLevel.ERROR -> Log.ERROR
        LogLevel.WARN -> Log.WARN
        LogLevel.INFO -> Log.INFO
        LogLevel.DEBUG -> Log.DEBUG
    }
    Log.println(priority, TAG, message)
}

/**
 * Runs an SDK call from a platform callback, where an exception would crash the app: a
 * failure (for example after shutdown) is logged instead.
 */
internal inline fun reportFailure(what: String, call: () -> Unit) {
    try {
        call()
    } catch (e: ConversionsException) {
        Log.w(TAG, "$what failed: ${e.message}")
    }
}
