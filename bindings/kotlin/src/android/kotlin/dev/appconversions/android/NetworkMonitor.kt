package dev.appconversions.android

import android.content.Context
import android.net.ConnectivityManager
import android.net.Network
import android.net.NetworkCapabilities
import dev.appconversions.Conversions
import dev.appconversions.NetworkType

/**
 * Follows the default network: a network regained after none calls
 * [Conversions.onNetworkAvailable] (delivery retries at once instead of waiting out its
 * backoff); a change of network kind (wifi, ethernet, other) or carrier updates the device facts. Callbacks arrive on a
 * ConnectivityManager thread, one at a time; each SDK call only queues work.
 */
internal class NetworkMonitor(
    private val context: Context,
    private val conversions: Conversions,
    private var offline: Boolean,
) : ConnectivityManager.NetworkCallback() {

    override fun onAvailable(network: Network) {
        if (offline) {
            offline = false
            reportFailure("onNetworkAvailable") { conversions.onNetworkAvailable() }
        }
    }

    override fun onCapabilitiesChanged(network: Network, capabilities: NetworkCapabilities) {
        updateDevice(
            wifi = capabilities.hasTransport(NetworkCapabilities.TRANSPORT_WIFI),
            networkType = networkType(capabilities),
        )
    }

    override fun onLost(network: Network) {
        offline = true
        updateDevice(wifi = false, networkType = null)
    }

    private fun updateDevice(wifi: Boolean, networkType: NetworkType?) {
        val carrier = readCarrier(context)
        val device = conversions.device
        if (device.wifi == wifi && device.networkType == networkType && device.carrier == carrier) return
        reportFailure("updateDevice") {
            conversions.updateDevice { it.copy(wifi = wifi, networkType = networkType, carrier = carrier) }
        }
    }
}
