// A JVM app using app-conversions from its Maven coordinates: starts the sandbox endpoint
// (its binary in SANDBOX_BIN), tracks a purchase, flushes, and exits non-zero unless the
// sandbox accepted exactly that event.
package example

import dev.appconversions.ActionSource
import dev.appconversions.ClientConfig
import dev.appconversions.Conversions
import dev.appconversions.LogLevel
import dev.appconversions.UserData
import dev.appconversions.checkout
import java.math.BigDecimal
import java.net.URI
import java.net.http.HttpClient
import java.net.http.HttpRequest
import java.net.http.HttpResponse
import java.nio.file.Files
import java.util.Currency
import kotlin.system.exitProcess
import kotlin.time.Duration.Companion.seconds
import kotlinx.coroutines.runBlocking

private const val TOKEN = "consumer-token"
private const val AD_ACCOUNT = "549768257474"

fun main() {
    try {
        run()
    } catch (e: Failure) {
        System.err.println("kotlin-consumer: FAILED: ${e.message}")
        exitProcess(1)
    }
}

private fun run() {
    val binary = System.getenv("SANDBOX_BIN") ?: fail("SANDBOX_BIN is not set: the sandbox binary's path")
    val sandbox = ProcessBuilder(binary, "--port", "0", "--token", TOKEN, "--ad-account", AD_ACCOUNT)
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start()
    try {
        val line = sandbox.inputStream.bufferedReader().readLine() ?: fail("the sandbox exited before listening")
        val baseUrl = line.substringAfter("sandbox listening on ").trim()
        val dir = Files.createTempDirectory("kotlin-consumer")

        val conversions = Conversions.start(
            ClientConfig(
                endpoint = baseUrl,
                adAccountId = AD_ACCOUNT,
                token = TOKEN,
                databasePath = dir.resolve("conversions.db").toString(),
                actionSource = ActionSource.APP_ANDROID,
                logLevel = LogLevel.WARN,
            ),
        )
        val tracked = conversions.checkout(
            BigDecimal("49.90"),
            Currency.getInstance("EUR"),
            orderId = "A-1001",
            user = UserData(emails = listOf("shopper@example.com")),
        )
        println("tracked checkout ${tracked.eventId} (recorded: ${tracked.recorded})")
        val report = runBlocking { conversions.flush(10.seconds) }
        println("flush: sent ${report.sent}, processed ${report.processed}, failed ${report.failed}, timed out ${report.timedOut}")
        runBlocking { conversions.shutdown() }

        val accepted = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("$baseUrl/_sandbox/accepted")).GET().build(),
            HttpResponse.BodyHandlers.ofString(),
        ).body()
        if (!tracked.recorded || report.processed != 1 || report.timedOut || !accepted.contains("\"A-1001\"")) {
            fail("the flush did not deliver the checkout A-1001: $report; the sandbox accepted $accepted")
        }
        println("the sandbox accepted checkout A-1001: delivered")
    } finally {
        sandbox.destroy()
        sandbox.waitFor()
    }
}

/** Why the run failed; [main] stops the sandbox, prints it and exits with status 1. */
private class Failure(message: String) : Exception(message)

private fun fail(message: String): Nothing = throw Failure(message)
