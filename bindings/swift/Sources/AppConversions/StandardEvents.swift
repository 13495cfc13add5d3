// Typed helpers for the standard Conversions API events. Each builds an `Event` and calls
// `track` of any ``ConversionsTracking`` (the SDK, or the recording double in tests): safe on the
// main thread, returns the `TrackResult`, and never throws: an event
// refused for bad input has `recorded == false`, its `warnings` name the field and the rule,
// and a warning line says so (`trackOrThrow` throws instead). Amounts are `Decimal`, sent as
// plain decimal strings ("19.99"); currencies are ISO-4217 codes such as "USD".
import Foundation

extension ConversionsTracking {
    /// Records the standard event `name`. The helpers below cover the common events; use this
    /// one for the others, for example `conversions.track(.subscribe, user: user)`.
    ///
    /// - Parameters:
    ///   - name: the event type.
    ///   - user: who did it; raw values are normalised and hashed before anything is stored.
    ///   - data: value, currency, products and other commerce details.
    ///   - eventId: deduplication id (for example your order id); a random UUID when `nil`.
    ///   - eventTime: when it happened; now when `nil`.
    ///   - sourceURL: absolute http(s) URL where it happened.
    /// - Returns: the event id; `recorded == false`, with the field and the rule in `warnings`,
    ///   when the event was refused (see ``Conversions/track(_:)``).
    @discardableResult
    public func track(
        _ name: EventName,
        user: UserData? = nil,
        data: CustomData? = nil,
        eventId: String? = nil,
        eventTime: Date? = nil,
        sourceURL: URL? = nil
    ) -> TrackResult {
        track(Event(
            name: name,
            eventId: eventId,
            eventTime: eventTime.map { Int64($0.timeIntervalSince1970.rounded(.down)) },
            eventSourceUrl: sourceURL?.absoluteString,
            userData: user,
            customData: data
        ))
    }

    /// Records a `checkout` (a purchase) of `value` in `currency`. The `orderId` is also the
    /// default `eventId`, so a purchase reported twice is counted once.
    ///
    /// Not recorded (`recorded == false`, the field in `warnings`, logged) for a value that is
    /// not positive (`custom_data.value`), a currency that is not a three-letter code
    /// (`custom_data.currency`) or any other field the core refuses.
    @discardableResult
    public func checkout(
        value: Decimal,
        currency: String,
        orderId: String? = nil,
        contents: [ContentItem] = [],
        user: UserData? = nil,
        eventId: String? = nil
    ) -> TrackResult {
        track(
            .checkout,
            user: user,
            data: CustomData(
                currency: currency,
                value: Conversions.plainDecimal(value),
                contents: contents,
                orderId: orderId
            ),
            eventId: eventId ?? orderId
        )
    }

    /// Records `add_to_cart` for `contents`, optionally worth `value` in `currency`.
    @discardableResult
    public func addToCart(
        contents: [ContentItem],
        value: Decimal? = nil,
        currency: String? = nil,
        user: UserData? = nil
    ) -> TrackResult {
        track(.addToCart, user: user, data: Conversions.commerce(contents, value, currency))
    }

    /// Records `add_to_wishlist` for `contents`, optionally worth `value` in `currency`.
    @discardableResult
    public func addToWishlist(
        contents: [ContentItem],
        value: Decimal? = nil,
        currency: String? = nil,
        user: UserData? = nil
    ) -> TrackResult {
        track(.addToWishlist, user: user, data: Conversions.commerce(contents, value, currency))
    }

    /// Records `initiate_checkout` for `contents`, optionally worth `value` in `currency`.
    @discardableResult
    public func initiateCheckout(
        contents: [ContentItem],
        value: Decimal? = nil,
        currency: String? = nil,
        user: UserData? = nil
    ) -> TrackResult {
        track(.initiateCheckout, user: user, data: Conversions.commerce(contents, value, currency))
    }

    /// Records `view_content` for the products `contentIds`, optionally naming the page `contentName`.
    @discardableResult
    public func viewContent(
        contentIds: [String],
        contentName: String? = nil,
        user: UserData? = nil
    ) -> TrackResult {
        track(.viewContent, user: user, data: CustomData(contentIds: contentIds, contentName: contentName))
    }

    /// Records `view_category` for `category`.
    @discardableResult
    public func viewCategory(_ category: String, user: UserData? = nil) -> TrackResult {
        track(.viewCategory, user: user, data: CustomData(contentCategory: category))
    }

    /// Records `search` for the text `query`.
    @discardableResult
    public func search(query: String, user: UserData? = nil) -> TrackResult {
        track(.search, user: user, data: CustomData(searchString: query))
    }

    /// Records a `lead`, optionally worth `value` in `currency`.
    @discardableResult
    public func lead(user: UserData? = nil, value: Decimal? = nil, currency: String? = nil) -> TrackResult {
        track(.lead, user: user, data: Conversions.commerce([], value, currency))
    }

    /// Records a `signup`.
    @discardableResult
    public func signup(user: UserData? = nil) -> TrackResult {
        track(.signup, user: user)
    }

    /// Records a `page_visit` of `url`, sent as `event_source_url`.
    ///
    /// Not recorded (`recorded == false`, the field in `warnings`, logged) for a URL that is
    /// not absolute http(s) (`event_source_url`).
    @discardableResult
    public func pageVisit(url: URL, user: UserData? = nil) -> TrackResult {
        track(.pageVisit, user: user, sourceURL: url)
    }

    /// Records the advertiser-defined event `name` (letters, digits, `_` and `-`, at most 100;
    /// at most 15 distinct names per ad account).
    ///
    /// Not recorded (`recorded == false`, the field in `warnings`, logged) for a bad or a 16th
    /// name (`custom_event_name`).
    @discardableResult
    public func custom(name: String, data: CustomData? = nil, user: UserData? = nil) -> TrackResult {
        track(Event(name: .custom, customEventName: name, userData: user, customData: data))
    }

}

extension Conversions {
    /// Commerce details for a value, currency and line items; `nil` when there are none.
    static func commerce(_ contents: [ContentItem], _ value: Decimal?, _ currency: String?) -> CustomData? {
        if contents.isEmpty && value == nil && currency == nil {
            return nil
        }
        return CustomData(currency: currency, value: value.map(Conversions.plainDecimal), contents: contents)
    }

    /// `amount` as a plain decimal string such as "19.99", rounded to six decimal places. The
    /// rounding removes the binary noise that a floating-point literal (`19.99` passes through
    /// `Double`) brings into a `Decimal`; prefer `Decimal(string: "19.99")` for exact amounts.
    static func plainDecimal(_ amount: Decimal) -> String {
        var exact = amount
        var rounded = Decimal()
        NSDecimalRound(&rounded, &exact, 6, .plain)
        return rounded.description
    }
}

extension ContentItem {
    /// A line item: product `id`, optionally its unit `price`, `quantity`, `name`, `category`
    /// and `brand`.
    public static func product(
        id: String,
        price: Decimal? = nil,
        quantity: Int64? = nil,
        name: String? = nil,
        category: String? = nil,
        brand: String? = nil
    ) -> ContentItem {
        ContentItem(
            id: id,
            itemName: name,
            itemCategory: category,
            itemBrand: brand,
            itemPrice: price.map(Conversions.plainDecimal),
            quantity: quantity
        )
    }
}
