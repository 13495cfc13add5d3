package dev.appconversions.android

import android.app.Activity
import android.app.Application
import android.os.Bundle
import dev.appconversions.Conversions
import java.util.Collections
import java.util.IdentityHashMap

/**
 * Turns activity lifecycle callbacks into the SDK's lifecycle calls. The app is in the
 * foreground while one of its activities is started: the first time it is (since process
 * start) is the launch, a later return a call to `onForeground`, the stop of the last started
 * activity a move to the background. A stop for a configuration change (rotation) is neither.
 *
 * [foreground] says whether an activity was already visible when the SDK started: then that
 * start is the launch (a late init, or a cold start for an activity), and the stop of an
 * activity started before the callbacks were registered still counts. Without one (a process
 * started for a service or a push), nothing is recorded until an activity starts.
 *
 * A newly created activity's intent goes to `handleIntent`: the link that launched the app (or
 * opened a new activity) carries the ad's click id.
 *
 * Callbacks arrive on the main thread and each SDK call only queues work; the sending that a
 * move to the background triggers runs on the SDK's upload thread. With an [advertising]
 * reader the launch is recorded once its first read is applied (in the background), and each
 * return to the foreground reads the advertising info again.
 */
internal class ForegroundTracker(
    private val conversions: Conversions,
    private val advertising: AdvertisingReader?,
    private var foreground: Boolean,
) : Application.ActivityLifecycleCallbacks {
    /** The activities started since the callbacks were registered and not stopped since. */
    private val started: MutableSet<Activity> = Collections.newSetFromMap(IdentityHashMap())
    private var launched = false
    private var changingConfiguration = false

    init {
        if (foreground) launch()
    }

    override fun onActivityStarted(activity: Activity) {
        started += activity
        if (foreground) return
        foreground = true
        when {
            !launched -> launch()
            !changingConfiguration -> {
                advertising?.refresh()
                reportFailure("onForeground") { conversions.onForeground() }
            }
        }
        changingConfiguration = false
    }

    override fun onActivityStopped(activity: Activity) {
        started -= activity
        if (started.isNotEmpty() || !foreground) return
        foreground = false
        changingConfiguration = activity.isChangingConfigurations
        if (!changingConfiguration) {
            reportFailure("onBackground") { conversions.onBackground() }
        }
    }

    private fun launch() {
        launched = true
        if (advertising == null) record() else advertising.afterFirstRead(::record)
    }

    private fun record() = reportFailure("onLaunch") { conversions.onLaunch() }

    /** The intent of a newly created activity (not one restored) may be an opened link. */
    override fun onActivityCreated(activity: Activity, savedInstanceState: Bundle?) {
        if (savedInstanceState == null) {
            reportFailure("handleIntent") { conversions.handleIntent(activity.intent) }
        }
    }

    override fun onActivityResumed(activity: Activity) = Unit

    override fun onActivityPaused(activity: Activity) = Unit

    override fun onActivitySaveInstanceState(activity: Activity, outState: Bundle) = Unit

    override fun onActivityDestroyed(activity: Activity) = Unit
}
