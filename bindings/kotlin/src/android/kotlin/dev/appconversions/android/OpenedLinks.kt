@file:JvmName("OpenedLinks")

package dev.appconversions.android

import android.content.Intent
import dev.appconversions.Conversions

/**
 * Hands the URL of an intent that opened the app (an App Link or a custom scheme, from
 * `onCreate` or `onNewIntent`) to [Conversions.handleOpenUrl]: its Pinterest click id (`epik`)
 * is kept for later events. The adapter does this for the intent that launched the app; call
 * it from `onNewIntent` for links that reach a running activity. Java:
 * `OpenedLinks.handleIntent(conversions, intent)`.
 *
 * @return true when the intent carried a URL (whether it held a click id is the core's call).
 */
fun Conversions.handleIntent(intent: Intent?): Boolean {
    val url = intent?.dataString ?: return false
    handleOpenUrl(url)
    return true
}
