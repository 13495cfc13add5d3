package dev.appconversions

/** Hears the outcome of [Conversions.flush]'s callback form, on a background thread. */
fun interface FlushCallback {
    /**
     * Called once: with the [report] when the flush ran (`timedOut` says whether its time ran
     * out first), or with the [error] that stopped it, such as [ConversionsException.ShutDown].
     */
    fun onFlushed(report: FlushReport?, error: ConversionsException?)
}
