package dev.appconversions.android

import android.app.ActivityManager
import android.app.Application
import android.os.Process
import dev.appconversions.Conversions
import dev.appconversions.ConversionsStatus
import dev.appconversions.LogLevel
import dev.appconversions.PrivacyState
import dev.appconversions.Sandbox
import dev.appconversions.string
import kotlinx.coroutines.runBlocking
import org.junit.After
import org.junit.AfterClass
import org.junit.Assert.assertEquals
import org.junit.Before
import org.junit.BeforeClass
import org.junit.runner.RunWith
import org.robolectric.RobolectricTestRunner
import org.robolectric.RuntimeEnvironment
import org.robolectric.Shadows.shadowOf
import org.robolectric.shadows.ShadowLog

/**
 * Base of the Android adapter's tests: Robolectric (SDK 34) runs the adapter against the real
 * core, loaded through JNA, and a sandbox process on loopback (one per test class, reset before
 * each test). Robolectric gives each test a fresh application and data folder; every instance a
 * test starts is shut down after it.
 */
@RunWith(RobolectricTestRunner::class)
abstract class AndroidTest {
    private val started = mutableListOf<Conversions>()

    /** The application under test (its package name is `org.robolectric.default`). */
    protected val app: Application get() = RuntimeEnvironment.getApplication()

    /** Forgets what the sandbox accepted before this test (a fresh class needs none of it). */
    @Before
    open fun resetSandbox() {
        sandbox.reset()
        ShadowLog.clear()
    }

    @After
    fun shutDownInstances() = runBlocking {
        started.forEach { it.shutdown() }
        started.clear()
    }

    /**
     * Starts the SDK as an app's `Application.onCreate` does, delivering to the sandbox, and
     * waits (bounded) until its background start ended. app_open follows any return to the
     * foreground unless [configure] says otherwise. With an advertising id by default, so the
     * events qualify for delivery.
     */
    protected fun start(
        privacy: PrivacyState = PrivacyState(advertisingId = ADVERTISING_ID),
        advertisingInfo: (() -> AdvertisingInfo)? = null,
        processName: String? = null,
        configure: dev.appconversions.ClientConfig.() -> Unit = {},
    ): Conversions {
        val conversions = AndroidConversions.start(
            app, sandbox.baseUrl, Sandbox.AD_ACCOUNT, Sandbox.TOKEN, privacy, advertisingInfo, processName,
        ) {
            minBackgroundForOpenSecs = 0u
            logLevel = LogLevel.WARN
            configure()
        }
        started += conversions
        return conversions
    }

    /** Sends everything queued and returns the names of the events the sandbox accepted. */
    protected fun Conversions.delivered(): List<String?> = runBlocking {
        assertEquals(ConversionsStatus.Running, flushStatus())
        sandbox.accepted().map { it.string("event_name") }
    }

    /**
     * Flushes until the sandbox accepted [expected] (at most five seconds), for events recorded
     * in the background after the call, such as a launch that waits for the advertising reader.
     */
    protected fun Conversions.eventuallyDelivered(expected: List<String>) {
        eventually { delivered() == expected }
        assertEquals(expected, delivered())
    }

    private suspend fun Conversions.flushStatus(): ConversionsStatus {
        flush()
        return status
    }

    /** Makes this process one that no activity of the app is visible in (a push or a service). */
    protected fun runInBackground() {
        val info = ActivityManager.RunningAppProcessInfo(app.packageName, Process.myPid(), null)
        info.importance = ActivityManager.RunningAppProcessInfo.IMPORTANCE_CACHED
        shadowOf(app.getSystemService(ActivityManager::class.java)).setProcesses(listOf(info))
    }

    /** Polls [done] for up to five seconds; whether it held. */
    protected fun eventually(done: () -> Boolean): Boolean {
        val deadline = System.nanoTime() + 5_000_000_000L
        while (System.nanoTime() < deadline) {
            if (done()) return true
            Thread.sleep(20)
        }
        return done()
    }

    /** The Logcat lines of the SDK's tag. */
    protected fun logcat(): List<String> = ShadowLog.getLogsForTag(TAG).map { it.msg }

    /** One sandbox for the class. */
    companion object {
        /** A GAID in upper case: the SDK must lowercase it before hashing. */
        const val ADVERTISING_ID = "38400000-8CF0-11BD-B23E-10B96E40000D"

        /** The sandbox of the running test class. */
        lateinit var sandbox: Sandbox

        /** Starts the sandbox. */
        @BeforeClass
        @JvmStatic
        fun startSandbox() {
            sandbox = Sandbox()
        }

        /** Stops the sandbox. */
        @AfterClass
        @JvmStatic
        fun stopSandbox() = sandbox.close()
    }
}
