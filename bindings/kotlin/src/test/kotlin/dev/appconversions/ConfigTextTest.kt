package dev.appconversions

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertFalse
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/** A configuration printed into a log or a crash report must not carry the token. */
class ConfigTextTest {
    @Test
    fun `toString of a configuration never shows the token`() {
        val config = ClientConfig(
            endpoint = "https://api.example.com",
            adAccountId = "549768257474",
            token = "secret-token-4711",
            databasePath = "/tmp/buffer.db",
            actionSource = ActionSource.APP_ANDROID,
            logLevel = LogLevel.WARN,
        )

        for (shown in listOf(config.toString(), "$config", config.copy(maxBatch = 20u).toString())) {
            assertFalse("secret-token-4711" in shown, shown)
            assertTrue("[redacted]" in shown, shown)
        }
        assertEquals("secret-token-4711", config.token, "the value itself is untouched")
    }
}
