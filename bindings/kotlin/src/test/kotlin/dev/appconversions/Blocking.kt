package dev.appconversions

import kotlinx.coroutines.runBlocking

/** The waiting calls a Java test needs beside the callback flush, run to completion. */
object Blocking {
    /** Shuts [conversions] down, waiting for it. */
    @JvmStatic
    fun shutdown(conversions: Conversions) = runBlocking { conversions.shutdown() }
}
