package dev.appconversions

import kotlin.time.Duration
import kotlinx.coroutines.CompletableDeferred
import kotlinx.coroutines.withTimeoutOrNull

/**
 * Stands between [Conversions] and the core client while the core may still be starting in the
 * background. Calls made before it is ready are queued (at most [capacity], then dropped and
 * counted) and replayed in order once it is; calls made during the replay queue behind it, so
 * none overtakes an earlier one. When the start failed, or in a process where the SDK does not
 * run, the gate is inactive and every call is dropped. Once ready, a call costs one volatile read.
 */
internal class ClientGate private constructor(
    private val capacity: Int,
    private val log: (String) -> Unit,
    ready: ConversionsClientInterface?,
    status: ConversionsStatus,
) {
    private val lock = Any()
    private val queue = ArrayDeque<(ConversionsClientInterface) -> Unit>()
    private var droppedCalls = 0L
    private val settled = CompletableDeferred<Unit>()

    /** The core client once it is ready and every queued call was replayed; null before. */
    @Volatile var client: ConversionsClientInterface? = ready
        private set

    /** Where the start stands. */
    @Volatile var status: ConversionsStatus = status
        private set

    init {
        if (status !is ConversionsStatus.Starting) settled.complete(Unit)
    }

    /**
     * Runs [call] on the client at once when it is ready, else queues it for the replay.
     * Returns false when the call was dropped (the gate is inactive, or the queue is full).
     */
    fun send(call: (ConversionsClientInterface) -> Unit): Boolean {
        val ready = client ?: synchronized(lock) {
            client ?: run {
                if (status is ConversionsStatus.Inactive) return drop("the SDK is inactive")
                if (queue.size >= capacity) return drop("$capacity calls wait for the start")
                queue.addLast(call)
                return true
            }
        }
        call(ready)
        return true
    }

    /** Replays the queued calls on [ready], in order, then hands every later call straight to it. */
    fun attach(ready: ConversionsClientInterface) {
        while (true) {
            val batch = synchronized(lock) {
                if (queue.isEmpty()) {
                    client = ready
                    status = ConversionsStatus.Running
                    settled.complete(Unit)
                    return
                }
                queue.toList().also { queue.clear() }
            }
            batch.forEach { call -> replay(ready, call) }
        }
    }

    /** Drops what waits and turns every later call into nothing, logging [reason]. */
    fun close(reason: String) {
        val dropped = synchronized(lock) {
            status = ConversionsStatus.Inactive(reason)
            queue.size.also { queue.clear() }
        }
        settled.complete(Unit)
        log("inactive: $reason; calls do nothing ($dropped queued calls dropped)")
    }

    /** Waits at most [timeout] for the start to end; true once ready or inactive. */
    suspend fun awaitSettled(timeout: Duration): Boolean =
        withTimeoutOrNull(timeout) { settled.await() } != null

    private fun replay(ready: ConversionsClientInterface, call: (ConversionsClientInterface) -> Unit) {
        try {
            call(ready)
        } catch (e: Exception) {
            // The replay runs on the start's background thread: an exception must not end it.
            log("a call made before the start ended failed: $e")
        }
    }

    /** Counts a dropped call; logs the first one and every 1,000th. Always false. */
    private fun drop(why: String): Boolean {
        val count = synchronized(lock) { ++droppedCalls }
        if (count == 1L || count % 1000 == 0L) log("call ignored ($count so far): $why")
        return false
    }

    /** Gates in each state. */
    companion object {
        /** At most this many calls wait for a background start. */
        const val DEFAULT_CAPACITY = 1000

        /** A gate in front of a client that is already running. */
        fun running(client: ConversionsClientInterface) =
            ClientGate(DEFAULT_CAPACITY, {}, client, ConversionsStatus.Running)

        /** A gate that queues until [attach] or [close] is called. */
        fun starting(capacity: Int, log: (String) -> Unit) =
            ClientGate(capacity, log, null, ConversionsStatus.Starting)

        /** A gate that drops every call, for [reason]. */
        fun inactive(reason: String, log: (String) -> Unit) =
            ClientGate(DEFAULT_CAPACITY, log, null, ConversionsStatus.Inactive(reason))
    }
}
