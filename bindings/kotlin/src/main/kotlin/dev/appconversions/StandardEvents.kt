// Typed helpers for the standard Conversions API events, as extensions of Conversions (from
// Java: static methods of the class StandardEvents, with overloads for the optional arguments).
// Each builds an Event and calls Conversions.track: safe on the main thread, never throws, and
// returns the TrackResult; an event refused for bad input has `recorded = false` and a WARN
// log line names the field. Amounts are BigDecimal, sent as plain decimal strings ("19.99");
// currencies are ISO-4217.
@file:JvmName("StandardEvents")

package dev.appconversions

import java.math.BigDecimal
import java.util.Currency

/**
 * Records the standard event [name]. The helpers below cover the common events; use this one
 * for the others, for example `track(EventName.SUBSCRIBE, user)`.
 *
 * @param user who did it; raw values are normalised and hashed before anything is stored.
 * @param data value, currency, products and other commerce details.
 * @param eventId deduplication id (for example your order id); a random UUID when null.
 * @param eventTime when it happened, Unix seconds; now when null.
 * @param sourceUrl absolute http(s) URL where it happened.
 * @return the event id; `recorded = false` when the event was refused (the log names the field).
 */
@JvmOverloads
fun ConversionsApi.track(
    name: EventName,
    user: UserData? = null,
    data: CustomData? = null,
    eventId: String? = null,
    eventTime: Long? = null,
    sourceUrl: String? = null,
): TrackResult = track(
    Event(
        name = name,
        eventId = eventId,
        eventTime = eventTime,
        eventSourceUrl = sourceUrl,
        userData = user,
        customData = data,
    ),
)

/**
 * Records a `checkout` (a purchase) of [value] in [currency]. The [orderId] is also the
 * default [eventId], so a purchase reported twice is counted once.
 *
 * Currencies are [Currency] throughout the Kotlin helpers (a code that arrives as text:
 * `Currency.getInstance(code)`, which refuses an unknown one); a raw [CustomData] passed to
 * [track] may carry any string, which the core checks as ISO-4217.
 *
 * Not recorded (`recorded = false`, logged) for a value that is not positive
 * (`custom_data.value`) or any other bad field.
 */
@JvmOverloads
fun ConversionsApi.checkout(
    value: BigDecimal,
    currency: Currency,
    orderId: String? = null,
    contents: List<ContentItem> = emptyList(),
    user: UserData? = null,
    eventId: String? = orderId,
): TrackResult = track(
    EventName.CHECKOUT,
    user,
    CustomData(
        value = value.toPlainString(),
        currency = currency.currencyCode,
        orderId = orderId,
        contents = contents,
    ),
    eventId,
)

/** Records `add_to_cart` for [contents], optionally worth [value] in [currency]. */
@JvmOverloads
fun ConversionsApi.addToCart(
    contents: List<ContentItem>,
    value: BigDecimal? = null,
    currency: Currency? = null,
    user: UserData? = null,
): TrackResult = commerce(EventName.ADD_TO_CART, contents, value, currency, user)

/** Records `add_to_wishlist` for [contents], optionally worth [value] in [currency]. */
@JvmOverloads
fun ConversionsApi.addToWishlist(
    contents: List<ContentItem>,
    value: BigDecimal? = null,
    currency: Currency? = null,
    user: UserData? = null,
): TrackResult = commerce(EventName.ADD_TO_WISHLIST, contents, value, currency, user)

/** Records `initiate_checkout` for [contents], optionally worth [value] in [currency]. */
@JvmOverloads
fun ConversionsApi.initiateCheckout(
    contents: List<ContentItem>,
    value: BigDecimal? = null,
    currency: Currency? = null,
    user: UserData? = null,
): TrackResult = commerce(EventName.INITIATE_CHECKOUT, contents, value, currency, user)

/** Records `view_content` for the products [contentIds], optionally naming the page [contentName]. */
@JvmOverloads
fun ConversionsApi.viewContent(
    contentIds: List<String>,
    contentName: String? = null,
    user: UserData? = null,
): TrackResult = track(
    EventName.VIEW_CONTENT,
    user,
    CustomData(contentIds = contentIds, contentName = contentName),
)

/** Records `view_category` for [category]. */
@JvmOverloads
fun ConversionsApi.viewCategory(category: String, user: UserData? = null): TrackResult =
    track(EventName.VIEW_CATEGORY, user, CustomData(contentCategory = category))

/** Records `search` for the text [query]. */
@JvmOverloads
fun ConversionsApi.search(query: String, user: UserData? = null): TrackResult =
    track(EventName.SEARCH, user, CustomData(searchString = query))

/** Records a `lead`, optionally worth [value] in [currency]. */
@JvmOverloads
fun ConversionsApi.lead(
    user: UserData? = null,
    value: BigDecimal? = null,
    currency: Currency? = null,
): TrackResult = track(EventName.LEAD, user, amount(value, currency))

/** Records a `signup`. */
@JvmOverloads
fun ConversionsApi.signup(user: UserData? = null): TrackResult = track(EventName.SIGNUP, user)

/**
 * Records a `page_visit` of [url] (an absolute http(s) URL, sent as `event_source_url`).
 *
 * Not recorded (`recorded = false`, logged) for a bad URL (`event_source_url`).
 */
@JvmOverloads
fun ConversionsApi.pageVisit(url: String, user: UserData? = null): TrackResult =
    track(EventName.PAGE_VISIT, user, sourceUrl = url)

/**
 * Records the advertiser-defined event [name] (letters, digits, `_` and `-`, at most 100;
 * at most 15 distinct names per ad account).
 *
 * Not recorded (`recorded = false`, logged) for a bad or a 16th name (`custom_event_name`).
 */
@JvmOverloads
fun ConversionsApi.custom(name: String, data: CustomData? = null, user: UserData? = null): TrackResult =
    track(Event(name = EventName.CUSTOM, customEventName = name, userData = user, customData = data))

private fun ConversionsApi.commerce(
    name: EventName,
    contents: List<ContentItem>,
    value: BigDecimal?,
    currency: Currency?,
    user: UserData?,
): TrackResult = track(name, user, (amount(value, currency) ?: CustomData()).copy(contents = contents))

private fun amount(value: BigDecimal?, currency: Currency?): CustomData? =
    if (value == null && currency == null) {
        null
    } else {
        CustomData(value = value?.toPlainString(), currency = currency?.currencyCode)
    }
