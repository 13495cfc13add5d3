package dev.appconversions

import java.nio.file.Path
import java.security.MessageDigest
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.AfterAll
import org.junit.jupiter.api.AfterEach
import org.junit.jupiter.api.BeforeAll
import org.junit.jupiter.api.BeforeEach
import org.junit.jupiter.api.TestInstance
import org.junit.jupiter.api.io.TempDir

/**
 * Base of the tests that deliver to the sandbox: one sandbox process per test class, reset
 * before each test; each test gets its own temporary database and its clients are shut down
 * after it, so nothing a test queued reaches the next one.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class SandboxTest {
    protected lateinit var sandbox: Sandbox
    private lateinit var dir: Path
    private val started = mutableListOf<Conversions>()

    @BeforeAll
    fun startSandbox() {
        sandbox = Sandbox()
    }

    @AfterAll
    fun stopSandbox() = sandbox.close()

    @BeforeEach
    fun prepare(@TempDir dir: Path) {
        this.dir = dir
        sandbox.reset()
    }

    @AfterEach
    fun shutDownClients() = runBlocking {
        started.forEach { it.shutdown() }
        started.clear()
    }

    /** The test's database file. */
    protected val databasePath: String get() = dir.resolve("conversions.db").toString()

    /**
     * Starts a client on the test's database that delivers to the sandbox, with an
     * advertising id unless [privacy] says otherwise and app_open on any return to the foreground.
     */
    protected fun start(
        privacy: PrivacyState = PrivacyState(advertisingId = ADVERTISING_ID),
        configure: ClientConfig.() -> Unit = {},
    ): Conversions {
        val config = ClientConfig(
            endpoint = sandbox.baseUrl,
            adAccountId = Sandbox.AD_ACCOUNT,
            token = Sandbox.TOKEN,
            databasePath = databasePath,
            actionSource = ActionSource.APP_ANDROID,
            minBackgroundForOpenSecs = 0u,
            logLevel = LogLevel.WARN,
        ).apply(configure)
        return Conversions.start(config, APP, DEVICE, privacy).also { started += it }
    }

    /** Shared test data. */
    companion object {
        /** A GAID in upper case: the SDK must lowercase it before hashing. */
        const val ADVERTISING_ID = "38400000-8CF0-11BD-B23E-10B96E40000D"

        /** The app under test. */
        val APP = AppInfo(appId = "dev.appconversions.test", appName = "Test", appVersion = "1.0")

        /** The device under test. */
        val DEVICE = DeviceInfo(
            brand = "Google",
            model = "Pixel 8",
            deviceType = "phone",
            osVersion = "14",
            language = "en",
            wifi = true,
            userAgent = "Dalvik/2.1.0 (Linux; U; Android 14; Pixel 8 Build/UQ1A.240205.004)",
        )

        /** A user identified by email, so events qualify without an advertising id. */
        val SHOPPER = UserData(emails = listOf("Shopper@Example.com"))

        /** Lowercase hex SHA-256 of [text], computed independently of the SDK. */
        fun sha256(text: String): String =
            MessageDigest.getInstance("SHA-256").digest(text.toByteArray()).joinToString("") { "%02x".format(it) }
    }
}
