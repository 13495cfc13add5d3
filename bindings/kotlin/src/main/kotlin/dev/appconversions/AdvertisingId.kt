package dev.appconversions

/**
 * True for the all-zero advertising id (`00000000-0000-0000-0000-000000000000`), which Android
 * returns after the user deleted or opted out of the advertising id, and iOS when ATT is denied.
 */
internal fun isZeroedAdvertisingId(advertisingId: String?): Boolean {
    val digits = advertisingId?.trim()?.replace("-", "") ?: return false
    return digits.isNotEmpty() && digits.all { it == '0' }
}
