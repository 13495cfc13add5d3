package dev.appconversions

import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.CountDownLatch
import kotlin.concurrent.thread
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class ConcurrencyTest : SandboxTest() {
    @Test
    fun `calls from many threads and coroutines at once lose nothing`() = runBlocking {
        val conversions = start()
        val ids = ConcurrentLinkedQueue<String>()
        val go = CountDownLatch(1)
        val threads = (1..THREADS).map { t ->
            thread(name = "tracker-$t") {
                go.await()
                repeat(PER_THREAD) { i -> ids += conversions.search("thread $t call $i").eventId }
            }
        }
        go.countDown()
        val coroutines = List(COROUTINES) {
            launch(Dispatchers.Default) { ids += conversions.lead(SHOPPER).eventId }
        }
        threads.forEach { it.join() }
        coroutines.forEach { it.join() }

        val report = conversions.flush(60.seconds)

        val total = THREADS * PER_THREAD + COROUTINES
        assertEquals(total, ids.toSet().size, "event ids must be distinct")
        assertEquals(0, report.remaining)
        val accepted = sandbox.accepted().groupingBy { it.string("event_id") }.eachCount()
        assertEquals(ids.toSet(), accepted.keys)
        assertEquals(setOf(1), accepted.values.toSet(), "every event accepted exactly once")
    }

    private companion object {
        const val THREADS = 8
        const val PER_THREAD = 200
        const val COROUTINES = 100
    }
}
