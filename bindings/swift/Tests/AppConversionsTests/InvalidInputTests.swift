// Bad input throws ConversionsError.InvalidInput naming the field, and stores nothing; a bad
// configuration or a second client on one database is refused.
import AppConversions
import XCTest

final class InvalidInputTests: SandboxTestCase {
    /// A bad call and the field its error must name.
    private let badCalls: [(field: String, call: (Conversions) throws -> Void)] = [
        ("custom_data.value", { conversions in _ = try conversions.checkout(value: -1, currency: "USD") }),
        ("custom_data.value", { conversions in _ = try conversions.checkout(value: 0, currency: "USD") }),
        ("custom_data.currency", { conversions in _ = try conversions.checkout(value: 10, currency: "dollars") }),
        ("user_data.em", { conversions in _ = try conversions.lead(user: UserData(emails: ["not-an-email"])) }),
        ("custom_event_name", { conversions in _ = try conversions.custom(name: "took survey!") }),
        ("event_source_url", { conversions in _ = try conversions.pageVisit(url: URL(string: "ftp://shop.example.com")!) }),
        ("custom_data.contents[0].quantity", { conversions in
            _ = try conversions.addToCart(contents: [ContentItem(id: "a", quantity: -1)])
        }),
        ("event_time", { conversions in
            _ = try conversions.track(.lead, user: SandboxTestCase.shopper, eventTime: Date(timeIntervalSince1970: 0))
        }),
        ("device.language", { conversions in try conversions.updateDevice { device in device.language = "english" } }),
    ]

    func testBadInputThrowsInvalidInputNamingTheFieldAndStoresNothing() async throws {
        let conversions = try start()

        for (field, call) in badCalls {
            XCTAssertThrowsError(try call(conversions), field) { error in
                guard case let .InvalidInput(named, rule)? = error as? ConversionsError else {
                    return XCTFail("\(field): \(error) is not InvalidInput")
                }
                XCTAssertEqual(named, field)
                XCTAssertFalse(rule.isEmpty)
                XCTAssertTrue(error.localizedDescription.contains(field), error.localizedDescription)
            }
        }

        let diagnostics = await conversions.diagnostics()
        XCTAssertEqual(diagnostics.queued, 0)
        XCTAssertEqual(conversions.device.language, "en", "a refused device change is not applied")
    }

    func testABadConfigurationThrowsInvalidConfigNamingTheField() {
        XCTAssertThrowsError(try start { $0.adAccountId = "act-1" }) { error in
            XCTAssertEqual((error as? ConversionsError)?.field, "ad_account_id")
            guard case .InvalidConfig? = error as? ConversionsError else {
                return XCTFail("\(error) is not InvalidConfig")
            }
        }
    }

    func testASecondClientOnTheSameDatabaseIsRefused() throws {
        _ = try start()

        XCTAssertThrowsError(try start()) { error in
            XCTAssertEqual(error as? ConversionsError, .DatabaseInUse(path: self.databaseURL.path))
        }
    }
}
