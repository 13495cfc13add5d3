package dev.appconversions.android;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import dev.appconversions.Conversions;
import dev.appconversions.ConversionsException;
import dev.appconversions.FlushReport;
import dev.appconversions.PrivacyState;
import dev.appconversions.Sandbox;
import dev.appconversions.SandboxKt;
import dev.appconversions.StandardEvents;
import dev.appconversions.TrackResult;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.Test;

/** A Java app's `Application.onCreate`: the adapter's start with the overloads, a helper, the callback flush. */
public class JavaStartTest extends AndroidTest {
    @Test
    public void aJavaAppStartsTracksAndFlushes() throws Exception {
        Sandbox sandbox = AndroidTest.Companion.getSandbox();
        PrivacyState privacy = new PrivacyState();
        privacy.setAdvertisingId(ADVERTISING_ID);
        Conversions conversions = AndroidConversions.start(getApp(), sandbox.getBaseUrl(), Sandbox.AD_ACCOUNT,
            Sandbox.TOKEN, privacy);
        try {
            TrackResult survey = StandardEvents.custom(conversions, Sandbox.CUSTOM_EVENT);
            CompletableFuture<FlushReport> flushed = new CompletableFuture<>();
            CompletableFuture<ConversionsException> failed = new CompletableFuture<>();
            conversions.flush(10_000, (report, error) -> {
                failed.complete(error);
                flushed.complete(report);
            });

            assertTrue(flushed.get(15, TimeUnit.SECONDS) != null);
            assertNull(failed.get());
            List<String> delivered = sandbox.accepted(Sandbox.CUSTOM_EVENT).stream()
                .map(event -> SandboxKt.string(event, "event_id"))
                .collect(Collectors.toList());
            assertEquals(List.of(survey.getEventId()), delivered);
        } finally {
            conversions.shutdownBlocking();
        }
    }
}
