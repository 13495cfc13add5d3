// The typed helpers send their standard event names and fields.
import AppConversions
import XCTest

final class StandardEventsTests: SandboxTestCase {
    func testCheckoutSendsValueCurrencyOrderIdAndContentsDeduplicatedByOrderId() async throws {
        let conversions = try start()
        let contents = [ContentItem.product(id: "sku-1", price: Decimal(string: "9.99"), quantity: 2)]

        let result = conversions.checkout(
            value: Decimal(string: "19.98")!,
            currency: "eur",
            orderId: "order-42",
            contents: contents,
            user: Self.shopper
        )
        _ = try await conversions.flush()

        XCTAssertEqual(result.eventId, "order-42")
        let checkouts = try await sandbox.accepted(named: "checkout")
        XCTAssertEqual(checkouts.count, 1)
        let checkout = try XCTUnwrap(checkouts.first)
        XCTAssertEqual(checkout.string("event_id"), "order-42")
        XCTAssertEqual(checkout.string("custom_data.value"), "19.98")
        XCTAssertEqual(checkout.string("custom_data.currency"), "EUR")
        XCTAssertEqual(checkout.string("custom_data.order_id"), "order-42")
        XCTAssertEqual(checkout.string("custom_data.contents.0.id"), "sku-1")
        XCTAssertEqual(checkout.string("custom_data.contents.0.item_price"), "9.99")
        XCTAssertEqual(checkout.strings("user_data.em"), [sha256("shopper@example.com")])
    }

    func testEachHelperRecordsItsStandardEventName() async throws {
        try await sandbox.registerCustomEvent()
        let conversions = try start()
        let item = [ContentItem.product(id: "sku-1", quantity: 1)]

        conversions.addToCart(contents: item, value: 5, currency: "USD")
        conversions.addToWishlist(contents: item)
        conversions.initiateCheckout(contents: item, value: Decimal(string: "5.00"), currency: "USD")
        conversions.viewContent(contentIds: ["sku-1"], contentName: "Red shoes")
        conversions.viewCategory("shoes")
        conversions.search(query: "red shoes")
        conversions.lead(user: Self.shopper)
        conversions.signup(user: Self.shopper)
        conversions.pageVisit(url: URL(string: "https://shop.example.com/red-shoes")!)
        conversions.track(.subscribe, user: Self.shopper)
        conversions.custom(name: Sandbox.customEvent, user: Self.shopper)
        _ = try await conversions.flush()

        let accepted = try await sandbox.accepted()
        XCTAssertEqual(accepted.map { $0.string("event_name") }, [
            "add_to_cart", "add_to_wishlist", "initiate_checkout", "view_content", "view_category",
            "search", "lead", "signup", "page_visit", "subscribe", Sandbox.customEvent,
        ])
        let search = try await sandbox.accepted(named: "search")
        XCTAssertEqual(search.first?.string("custom_data.search_string"), "red shoes")
        let addToCart = try await sandbox.accepted(named: "add_to_cart")
        XCTAssertEqual(addToCart.first?.string("custom_data.value"), "5")
    }
}
