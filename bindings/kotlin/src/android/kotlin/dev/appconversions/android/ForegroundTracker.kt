package dev.appconversions.android

import android.app.Activity
import android.app.Application
import android.os.Bundle
import dev.appconversions.Conversions

/**
 * Turns activity lifecycle callbacks into the SDK's lifecycle calls by counting started
 * activities: the first start after process start is a launch, later 0 -> 1 a return to the
 * foreground, 1 -> 0 a move to the background. A stop for a configuration change (rotation)
 * is neither. Callbacks arrive on the main thread and each SDK call only queues work; the
 * sending that a move to the background triggers runs on the SDK's upload thread.
 *
 * With an [advertising] reader the launch is recorded once its first read is applied (in the
 * background), and each return to the foreground reads the advertising info again.
 */
internal class ForegroundTracker(
    private val conversions: Conversions,
    private val advertising: AdvertisingReader?,
) : Application.ActivityLifecycleCallbacks {
    private var started = 0
    private var launched = false
    private var changingConfiguration = false

    override fun onActivityStarted(activity: Activity) {
        started += 1
        if (started != 1) return
        when {
            !launched -> {
                launched = true
                if (advertising == null) launch() else advertising.afterFirstRead(::launch)
            }
            !changingConfiguration -> {
                advertising?.refresh()
                reportFailure("onForeground") { conversions.onForeground() }
            }
        }
        changingConfiguration = false
    }

    override fun onActivityStopped(activity: Activity) {
        started = (started - 1).coerceAtLeast(0)
        if (started > 0) return
        changingConfiguration = activity.isChangingConfigurations
        if (!changingConfiguration) {
            reportFailure("onBackground") { conversions.onBackground() }
        }
    }

    private fun launch() = reportFailure("onLaunch") { conversions.onLaunch() }

    override fun onActivityCreated(activity: Activity, savedInstanceState: Bundle?) = Unit

    override fun onActivityResumed(activity: Activity) = Unit

    override fun onActivityPaused(activity: Activity) = Unit

    override fun onActivitySaveInstanceState(activity: Activity, outState: Bundle) = Unit

    override fun onActivityDestroyed(activity: Activity) = Unit
}
