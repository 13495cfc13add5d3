package dev.appconversions

import java.math.BigDecimal
import java.util.Currency
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class StandardEventsTest : SandboxTest() {
    @Test
    fun `checkout sends value, currency, order id and contents, deduplicated by order id`() = runBlocking {
        val conversions = start()
        val contents = listOf(ContentItem(id = "sku-1", itemPrice = "9.99", quantity = 2))

        val result = conversions.checkout(BigDecimal("19.98"), Currency.getInstance("EUR"), "order-42", contents, SHOPPER)
        conversions.flush()

        assertEquals("order-42", result.eventId)
        val checkout = sandbox.accepted("checkout").single()
        assertEquals("order-42", checkout.string("event_id"))
        assertEquals("19.98", checkout.string("custom_data.value"))
        assertEquals("EUR", checkout.string("custom_data.currency"))
        assertEquals("order-42", checkout.string("custom_data.order_id"))
        assertEquals("sku-1", checkout.string("custom_data.contents.0.id"))
        assertEquals(listOf(sha256("shopper@example.com")), checkout.strings("user_data.em"))
    }

    @Test
    fun `each helper records its standard event name`() = runBlocking {
        val conversions = start()
        val item = listOf(ContentItem(id = "sku-1", quantity = 1))
        val usd = Currency.getInstance("USD")

        conversions.addToCart(item, BigDecimal("5"), usd)
        conversions.addToWishlist(item)
        conversions.initiateCheckout(item, BigDecimal("5.00"), usd)
        conversions.viewContent(listOf("sku-1"), "Red shoes")
        conversions.viewCategory("shoes")
        conversions.search("red shoes")
        conversions.lead(SHOPPER)
        conversions.signup(SHOPPER)
        conversions.pageVisit("https://shop.example.com/red-shoes")
        conversions.track(EventName.SUBSCRIBE, SHOPPER)
        conversions.custom(Sandbox.CUSTOM_EVENT, user = SHOPPER)
        conversions.flush()

        val names = listOf(
            "add_to_cart", "add_to_wishlist", "initiate_checkout", "view_content", "view_category",
            "search", "lead", "signup", "page_visit", "subscribe", Sandbox.CUSTOM_EVENT,
        )
        assertEquals(names, sandbox.accepted().map { it.string("event_name") })
        assertEquals("red shoes", sandbox.accepted("search").single().string("custom_data.search_string"))
        assertEquals("5", sandbox.accepted("add_to_cart").single().string("custom_data.value"))
    }
}
