package com.android.installreferrer.api;

/** Test double of the Play Install Referrer library's listener (same name and methods). */
public interface InstallReferrerStateListener {
    /** The connection answered with a response code of {@link InstallReferrerClient}. */
    void onInstallReferrerSetupFinished(int responseCode);

    /** The connection was lost. */
    void onInstallReferrerServiceDisconnected();
}
