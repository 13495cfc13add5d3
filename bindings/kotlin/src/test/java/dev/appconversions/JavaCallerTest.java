package dev.appconversions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Currency;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A Java app's use of the SDK: the static entry points, the overloads and the callback flush. */
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
            Blocking.shutdown(conversions);
        }
    }

    @Test
    void theCallbackHearsShutDownAfterShutdown(@TempDir Path dir) throws Exception {
        Conversions conversions = Conversions.start(Conversions.clientConfig(sandbox.getBaseUrl(), Sandbox.AD_ACCOUNT,
            Sandbox.TOKEN, dir.resolve("conversions.db").toString(), ActionSource.APP_ANDROID));
        Blocking.shutdown(conversions);
        CompletableFuture<ConversionsException> failed = new CompletableFuture<>();

        conversions.flush(1_000, (report, error) -> failed.complete(error));

        assertTrue(failed.get(5, TimeUnit.SECONDS) instanceof ConversionsException.ShutDown);
    }
}
