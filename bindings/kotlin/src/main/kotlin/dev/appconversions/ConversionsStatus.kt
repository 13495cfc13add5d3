package dev.appconversions

/**
 * Whether a [Conversions] instance records and sends. An instance from [Conversions.start] is
 * [Running] from the start; one from `AndroidConversions.start` is [Starting] until the native
 * library is loaded and the core is built in the background, then [Running], or [Inactive]
 * when that failed or when the process is not one the SDK runs in.
 */
sealed class ConversionsStatus {
    /** The core is being built in the background; calls are queued (bounded) and replayed in order. */
    data object Starting : ConversionsStatus()

    /** The core runs: calls record and send. */
    data object Running : ConversionsStatus()

    /**
     * Nothing is recorded or sent: calls do nothing (`track` returns `recorded = false`),
     * `diagnostics()` reports zeros with [reason] as its `pausedReason`.
     *
     * @property reason why, for example that the native library failed to load or that this is
     *   not the app's main process.
     */
    data class Inactive(val reason: String) : ConversionsStatus()
}
