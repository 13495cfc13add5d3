package dev.appconversions

import java.util.concurrent.ConcurrentLinkedQueue
import java.util.concurrent.Executors
import kotlinx.coroutines.async
import kotlinx.coroutines.asCoroutineDispatcher
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.assertThrows

class FlushTest : SandboxTest() {
    @Test
    fun `flush suspends without blocking the calling thread`() {
        // The sandbox holds its answer for a second, so the flush has a delivery to wait for
        // whether it starts before the uploader sends the event or while the send is in flight.
        sandbox.fault("""{"kind":"delay","millis":1000}""")
        val conversions = start()
        conversions.lead(SHOPPER)
        Executors.newSingleThreadExecutor().asCoroutineDispatcher().use { caller ->
            runBlocking(caller) {
                val flush = async { conversions.flush() }
                // Queued behind the flush on the same single thread: it runs while the flush
                // waits only if the flush gave the thread back.
                val ranDuringFlush = async { !flush.isCompleted }

                assertTrue(ranDuringFlush.await())
                val report = flush.await()
                assertEquals(0, report.remaining)
                assertFalse(report.timedOut)
            }
        }
    }

    @Test
    fun `flush reports what was delivered and the listener and log sink hear it`() = runBlocking {
        val conversions = start { logLevel = LogLevel.DEBUG }
        val outcomes = ConcurrentLinkedQueue<BatchOutcome>()
        val lines = ConcurrentLinkedQueue<String>()
        conversions.setDeliveryListener { outcomes += it }
        conversions.setLogSink { _, message -> lines += message }

        repeat(3) { conversions.signup(SHOPPER) }
        val report = conversions.flush()

        assertEquals(3, report.processed)
        assertEquals(0, report.remaining)
        assertFalse(report.timedOut)
        assertEquals(3, outcomes.sumOf { it.processed })
        assertTrue(lines.isNotEmpty())
        assertTrue(lines.none { Sandbox.TOKEN in it }, "the token never reaches a log line")
        assertEquals(3L, conversions.diagnostics().delivered)
    }

    @Test
    fun `a server error leaves the events queued for a retry`() = runBlocking {
        sandbox.fault("""{"status":503,"retry_after":"3600"}""")
        val conversions = start()
        conversions.lead(SHOPPER)

        val report = conversions.flush()

        assertEquals(1, report.remaining)
        val diagnostics = conversions.diagnostics()
        assertEquals(1, diagnostics.queued)
        assertEquals(503, diagnostics.lastStatus)
        assertEquals(emptyList<Any>(), sandbox.accepted())
    }

    @Test
    fun `calls after shutdown raise ShutDown, except the track helpers, which record nothing`() {
        val conversions = start()
        runBlocking { conversions.shutdown() }

        assertEquals(false, conversions.lead(SHOPPER).recorded)
        assertThrows<ConversionsException.ShutDown> { conversions.trackOrThrow(Event(name = EventName.LEAD)) }
        assertThrows<ConversionsException.ShutDown> { runBlocking { conversions.flush() } }
    }
}
