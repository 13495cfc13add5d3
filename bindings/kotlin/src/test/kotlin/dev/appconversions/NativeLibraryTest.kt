package dev.appconversions

import java.nio.file.Files
import java.nio.file.Path
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertNull
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test
import org.junit.jupiter.api.io.TempDir

/** The native library loads through JNA and a client works in an empty directory, with no sandbox. */
class NativeLibraryTest {
    @Test
    fun `a client starts in a fresh directory and reports healthy diagnostics`(@TempDir dir: Path) = runBlocking {
        val database = dir.resolve("fresh.db")
        val config = ClientConfig(
            endpoint = "http://127.0.0.1:9",
            adAccountId = Sandbox.AD_ACCOUNT,
            token = "unused",
            databasePath = database.toString(),
            actionSource = ActionSource.APP_ANDROID,
            logLevel = LogLevel.OFF,
        )
        val conversions = Conversions.start(config)

        val diagnostics = conversions.diagnostics()
        conversions.shutdown()

        assertEquals(0, diagnostics.queued)
        assertEquals(0, diagnostics.deadLettered)
        assertNull(diagnostics.storageError)
        assertEquals(0L, diagnostics.workerPanics)
        assertTrue(Files.exists(database), "the buffer was created")
    }
}
