package dev.appconversions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Currency;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Java app's use of the SDK: the static entry points, the overloads, the callback flush with
 * and without a timeout, the blocking forms of the waiting calls on a worker thread, and the
 * counts as {@code int} and {@code long}.
 */
class JavaCallerTest {
    private static Sandbox sandbox;

    @BeforeAll
    static void startSandbox() {
        sandbox = new Sandbox();
    }

    @AfterAll
    static void stopSandbox() {
        sandbox.close();
    }

    @Test
    void javaTracksWithTheHelpersAndFlushesWithACallback(@TempDir Path dir) throws Exception {
        ClientConfig config = Conversions.clientConfig(sandbox.getBaseUrl(), Sandbox.AD_ACCOUNT, Sandbox.TOKEN,
            dir.resolve("conversions.db").toString(), ActionSource.APP_ANDROID);
        Conversions conversions = Conversions.start(config);
        try {
            UserData user = new UserData();
            user.setEmails(List.of("shopper@example.com"));

            TrackResult purchase = StandardEvents.checkout(conversions, new BigDecimal("49.90"),
                Currency.getInstance("EUR"), "J-1001", List.of(), user);
            TrackResult refused = StandardEvents.custom(conversions, "took survey!");
            CompletableFuture<FlushReport> flushed = new CompletableFuture<>();
            CompletableFuture<String> callbackThread = new CompletableFuture<>();
            conversions.flush(10_000, (report, error) -> {
                callbackThread.complete(Thread.currentThread().getName());
                assertNull(error);
                flushed.complete(report);
            });
            FlushReport report = flushed.get(15, TimeUnit.SECONDS);

            assertEquals("J-1001", purchase.getEventId());
            assertTrue(purchase.getRecorded());
            assertFalse(refused.getRecorded(), "a refused event is a result, not an exception");
            assertFalse(report.getTimedOut());
            assertNotEquals(Thread.currentThread().getName(), callbackThread.get());
            List<String> delivered = sandbox.accepted("checkout").stream()
                .map(event -> SandboxKt.string(event, "event_id"))
                .collect(Collectors.toList());
            assertEquals(List.of("J-1001"), delivered);
        } finally {
            conversions.shutdownBlocking();
        }
    }

    @Test
    void theCallbackHearsShutDownAfterShutdown(@TempDir Path dir) throws Exception {
        Conversions conversions = Conversions.start(Conversions.clientConfig(sandbox.getBaseUrl(), Sandbox.AD_ACCOUNT,
            Sandbox.TOKEN, dir.resolve("conversions.db").toString(), ActionSource.APP_ANDROID));
        conversions.shutdownBlocking();
        CompletableFuture<ConversionsException> failed = new CompletableFuture<>();

        conversions.flush(1_000, (report, error) -> failed.complete(error));

        assertTrue(failed.get(5, TimeUnit.SECONDS) instanceof ConversionsException.ShutDown);
    }

    @Test
    void aWorkerThreadWaitsForTheFlushAndReadsCountsAsIntsAndLongs(@TempDir Path dir) throws Exception {
        Conversions conversions = Conversions.start(Conversions.clientConfig(sandbox.getBaseUrl(), Sandbox.AD_ACCOUNT,
            Sandbox.TOKEN, dir.resolve("conversions.db").toString(), ActionSource.APP_ANDROID));
        ExecutorService worker = Executors.newSingleThreadExecutor();
        UserData shopper = new UserData();
        shopper.setEmails(List.of("worker@example.com"));
        try {
            StandardEvents.checkout(conversions, new BigDecimal("12.00"), Currency.getInstance("USD"), "J-2001",
                List.of(), shopper);
            StandardEvents.checkout(conversions, new BigDecimal("13.00"), Currency.getInstance("USD"), "J-2002",
                List.of(), shopper);

            FlushReport report = worker.submit(() -> conversions.flushBlocking(10_000)).get(15, TimeUnit.SECONDS);
            Diagnostics diagnostics = worker.submit(conversions::diagnosticsBlocking).get(15, TimeUnit.SECONDS);

            int processed = report.getProcessed();
            int queued = diagnostics.getQueued();
            long delivered = diagnostics.getDelivered();
            assertEquals(2, processed);
            assertEquals(0, report.getRemaining());
            assertEquals(Integer.valueOf(200), report.getLastStatus());
            assertEquals(0, queued);
            assertEquals(2L, delivered);

            StandardEvents.checkout(conversions, new BigDecimal("14.00"), Currency.getInstance("USD"), "J-2003",
                List.of(), shopper);
            CompletableFuture<FlushReport> withTheDefaultTimeout = new CompletableFuture<>();
            conversions.flush((next, error) -> withTheDefaultTimeout.complete(next));
            assertEquals(1, withTheDefaultTimeout.get(40, TimeUnit.SECONDS).getProcessed());
        } finally {
            worker.shutdown();
            conversions.shutdownBlocking();
        }
        assertThrows(ConversionsException.ShutDown.class, () -> conversions.flushBlocking());
        try {
            conversions.forgetBlocking();
            fail("forget after shutdown");
        } catch (ConversionsException error) {
            // Java can catch the SDK's exceptions around the blocking calls: they declare them.
            assertTrue(error instanceof ConversionsException.ShutDown, error.toString());
        }
    }
}
