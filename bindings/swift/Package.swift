// swift-tools-version:5.9
// The Swift package of the AppConversions SDK.
//
// `AppConversionsFFI.xcframework` (static libraries of the Rust core plus its C header and
// module map) and `Sources/AppConversions/Generated/` are produced by `build-xcframework.sh`;
// neither is committed. The Swift code stays in Swift 5 language mode: the generated
// bindings are not written for Swift 6 strict concurrency.
import PackageDescription

let package = Package(
    name: "AppConversions",
    platforms: [.iOS(.v14), .macOS(.v12)],
    products: [
        .library(name: "AppConversions", targets: ["AppConversions"]),
    ],
    targets: [
        .binaryTarget(name: "AppConversionsFFI", path: "AppConversionsFFI.xcframework"),
        .target(
            name: "AppConversions",
            dependencies: ["AppConversionsFFI"],
            path: "Sources/AppConversions",
            resources: [.copy("PrivacyInfo.xcprivacy")]
        ),
        .testTarget(
            name: "AppConversionsTests",
            dependencies: ["AppConversions"],
            path: "Tests/AppConversionsTests"
        ),
    ],
    swiftLanguageVersions: [.v5]
)
