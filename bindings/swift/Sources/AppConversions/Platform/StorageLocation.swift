// Where the SDK keeps its buffer, and the install date it reads. The buffer lives in
// Application Support, excluded from backups: restored onto another device it would resend
// events or claim an install that is not one. The Documents folder's creation date stands in
// for the install time (a file timestamp API, declared with reason C617.1 in
// PrivacyInfo.xcprivacy: the folder is inside the app's container).
import Foundation

enum StorageLocation {
    /// `Application Support/AppConversions/conversions.sqlite`. On macOS, where Application
    /// Support is shared between apps unless sandboxed, inside a folder named after the bundle id.
    static func defaultDatabaseURL() -> URL {
        var folder = FileManager.default.urls(for: .applicationSupportDirectory, in: .userDomainMask)[0]
        #if os(macOS)
        folder.appendPathComponent(Bundle.main.bundleIdentifier ?? "AppConversions", isDirectory: true)
        #endif
        folder.appendPathComponent("AppConversions", isDirectory: true)
        return folder.appendingPathComponent("conversions.sqlite", isDirectory: false)
    }

    /// Creates the database's folder if needed and excludes it (with the database, its journal
    /// and anything else inside) from backups. Runs on a background queue: the calling thread
    /// never touches disk; the core creates the same folder on its own thread meanwhile.
    static func excludeFromBackup(folderOf databaseURL: URL) {
        let folder = databaseURL.deletingLastPathComponent()
        DispatchQueue.global(qos: .utility).async {
            var url = folder
            var values = URLResourceValues()
            values.isExcludedFromBackup = true
            try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try? url.setResourceValues(values)
        }
    }

    /// When the app was installed, as the creation date of its Documents folder (Unix seconds);
    /// `nil` where there is no per-app container (macOS outside the sandbox).
    static func firstInstallTime() -> Int64? {
        #if os(iOS)
        guard
            let documents = FileManager.default.urls(for: .documentDirectory, in: .userDomainMask).first,
            let created = try? documents.resourceValues(forKeys: [.creationDateKey]).creationDate
        else {
            return nil
        }
        return Int64(created.timeIntervalSince1970)
        #else
        return nil
        #endif
    }
}
