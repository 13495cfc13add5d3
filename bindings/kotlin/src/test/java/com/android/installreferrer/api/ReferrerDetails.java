package com.android.installreferrer.api;

/** Test double of the library's referrer details (same name and getters). */
public class ReferrerDetails {
    private final String referrer;
    private final long clickSeconds;
    private final long installBeginSeconds;

    ReferrerDetails(String referrer, long clickSeconds, long installBeginSeconds) {
        this.referrer = referrer;
        this.clickSeconds = clickSeconds;
        this.installBeginSeconds = installBeginSeconds;
    }

    public String getInstallReferrer() {
        return referrer;
    }

    public long getReferrerClickTimestampSeconds() {
        return clickSeconds;
    }

    public long getInstallBeginTimestampSeconds() {
        return installBeginSeconds;
    }
}
